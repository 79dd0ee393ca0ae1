import { didYouMean } from '../connector-sdk/index.ts';
import { jsonProblem } from '../http/body.ts';
import { nextRuns } from '../http/routes/workflows.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { unknownWorkflow } from './catalogue-errors.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { auditCli, requireTenant, withServices } from './services.ts';

export const workflows: Command = {
  name: 'workflows',
  summary: 'List workflows for a tenant, enable or disable them',
  usage: `Usage: atlas workflows list --tenant <id>
       atlas workflows enable <workflow id> --tenant <id> [--config '<json>']
       atlas workflows disable <workflow id> --tenant <id>

  list      every workflow of the catalogue, its trigger, and whether the tenant runs it
  enable    the tenant runs it (schedules, webhooks, events); --config sets the values its
            templates read as tenant.config.*, checked against the workflow's config schema
  disable   the tenant no longer runs it

Each change is recorded in the audit log, with your user name as the actor.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(
      args,
      { tenant: { type: 'string' }, config: { type: 'string' } },
      true,
    );
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    if (action !== 'list' && action !== 'enable' && action !== 'disable') {
      const hint = action ? didYouMean(action, ['list', 'enable', 'disable']) : '';
      throw new UsageError(action ? `unknown action "${action}"${hint}` : 'an action is required');
    }
    const tenantId = values.tenant;
    if (!tenantId) throw new UsageError('--tenant is required');
    if (action === 'list' && id !== undefined) throw new UsageError('list takes no workflow id');
    if (action !== 'list' && id === undefined) throw new UsageError(`${action} needs a workflow id`);
    if (values.config !== undefined && action !== 'enable') throw new UsageError('--config goes with enable');
    const config = values.config === undefined ? undefined : parseConfig(values.config);
    return withServices(io, async ({ catalogue, runtime }, { db }) => {
      await requireTenant(db, tenantId);
      if (action === 'list') {
        const entries = catalogue.workflows();
        const width = Math.max(0, ...entries.map((e) => e.manifest.id.length));
        const statuses = await runtime.runtime.workflowStatuses(tenantId);
        for (const e of entries) {
          const status = statuses.get(e.manifest.id);
          const state = status?.missing !== undefined ? 'skipped' : status?.enabled ? 'enabled' : 'disabled';
          const next = nextRuns(e.manifest)[0];
          const by = status?.byDefault && !status.chosen ? ', on by default' : '';
          io.out(
            `${e.manifest.id.padEnd(width)}  ${state.padEnd(8)}  ${e.manifest.trigger.type.padEnd(8)}  ${e.manifest.name ?? ''}${next ? `  (next ${next})` : ''}`,
          );
          const needs = status?.requirements ?? 'none';
          if (needs !== 'none' || by !== '') io.out(`${' '.repeat(width)}  needs: ${needs}${by}`);
          if (status?.missing !== undefined) io.out(`${' '.repeat(width)}  skipped: ${status.missing}`);
        }
        return 0;
      }
      const workflowId = id!;
      if (!catalogue.workflow(workflowId)) throw unknownWorkflow(catalogue, workflowId);
      const state = await runtime.runtime
        .setWorkflowState(tenantId, workflowId, {
          enabled: action === 'enable',
          ...(config === undefined ? {} : { config }),
        })
        .catch((err: unknown) => {
          if (!(err instanceof RuntimeError)) throw err;
          const details = Array.isArray(err.details)
            ? err.details.map((d: { message?: string }) => `\n  - ${d.message}`).join('')
            : '';
          throw new CliError(`${err.message}${details}`);
        });
      await auditCli(db, {
        tenantId,
        action: 'workflows.set_enabled',
        entityType: 'workflow',
        entityId: workflowId,
        summary: state,
      });
      io.out(
        `${workflowId} is ${state.enabled ? 'enabled' : 'disabled'} for tenant ${tenantId}${Object.keys(state.config).length > 0 ? ` (config ${JSON.stringify(state.config)})` : ''}.`,
      );
      return 0;
    });
  },
};

function parseConfig(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config is not JSON: ${jsonProblem(text, err as Error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError('--config must be a JSON object, such as \'{"chatId": "42"}\'');
  return value as Record<string, unknown>;
}
