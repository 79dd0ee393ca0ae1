import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { formatErrors, validateSources } from '../../engine/manifest/index.ts';

const ROUTE = `apiVersion: atlas/v1
kind: WebhookRoute
id: telegram
path: /v1/telegram/webhook
verify: { method: telegram-secret-token, secret: TELEGRAM_WEBHOOK_SECRET }
event: { id: body.update_id }
tenant: { from: query.tenantId }
`;

const workflow = (signal: string, steps?: string) => `apiVersion: atlas/v1
kind: Workflow
id: WF-900
trigger:
  type: manual
  signal:
${signal}
config: { type: object, properties: { approvers: { type: array } } }
steps:
${steps ?? '  - id: approval\n    uses: core.waitForSignal\n    with: { name: approval }\n  - id: link\n    uses: core.log\n    with: { message: "run {{ run.id }} of {{ run.workflowId }}" }\n'}`;

function check(text: string): string[] {
  const { errors } = validateSources(
    [
      { file: 'route.yaml', text: ROUTE },
      { file: 'wf.yaml', text },
    ],
    { connectors: builtinConnectors },
  );
  return formatErrors(errors)
    .split('\n')
    .filter((l) => l !== '');
}

const GOOD = `    route: telegram
    run: "{{ trigger.body.callback_query.data }}"
    name: approval
    sender: "{{ trigger.body.callback_query.from.id }}"
    approvers: "{{ tenant.config.approvers }}"`;

describe('static checks of trigger.signal', () => {
  it('accepts a mapping over the event, and run.id in step templates', () => {
    expect(check(workflow(GOOD))).toEqual([]);
  });

  it('reports an unknown route, a signal no step waits for, and templates reading outside the event', () => {
    const lines = check(
      workflow(`    route: telegam
    run: "{{ steps.approval.output }}"
    name: aproval
    sender: "{{ input.user }}"
    approvers: "{{ trigger.body.x }}"`),
    ).join('\n');
    expect(lines).toMatch(/wf\.yaml:7:12 .*there is no WebhookRoute "telegam"; did you mean "telegram"\?/);
    expect(lines).toMatch(
      /wf\.yaml:9:11 .*no core.waitForSignal step of WF-900 waits for "aproval"; did you mean "approval"\?/,
    );
    expect(lines).toMatch(/wf\.yaml:8:\d+ .*steps cannot be read here/);
    expect(lines).toMatch(/wf\.yaml:10:\d+ .*input cannot be read here/);
    expect(lines).toMatch(/wf\.yaml:11:\d+ .*trigger cannot be read here/);
  });

  it('reports run fields that do not exist', () => {
    const lines = check(
      workflow(GOOD, '  - id: approval\n    uses: core.waitForSignal\n    with: { name: "{{ run.idd }}" }\n'),
    );
    expect(lines.join('\n')).toMatch(/run has no field "idd"; did you mean "id"\?/);
  });
});
