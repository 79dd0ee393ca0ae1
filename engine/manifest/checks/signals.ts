// Cross-checks of a workflow's `trigger.signal` mapping: the route exists, its templates read
// only the event (and `approvers` only the tenant's config), and the signal it names is one a
// `core.waitForSignal` step of the workflow waits for.
import { didYouMean } from '../../connector-sdk/index.ts';
import { templateRefs } from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Workflow } from '../types.gen.ts';
import { checkLogic, checkTemplates } from './expressions.ts';
import type { ScopeModel } from './scope.ts';
import type { CatalogueIds } from './workflow.ts';

const SIGNAL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export function checkSignalMapping(doc: ManifestDoc, workflow: Workflow, ids: CatalogueIds): void {
  const mapping = workflow.trigger.signal;
  if (!mapping) return;
  const at = ['trigger', 'signal'];
  if (!ids.WebhookRoute.has(mapping.route)) {
    const hint = didYouMean(mapping.route, ids.WebhookRoute);
    doc.report([...at, 'route'], 'reference', `there is no WebhookRoute "${mapping.route}"${hint}`);
  }
  const model = (roots: string[]): ScopeModel => ({
    roots,
    triggerType: 'webhook',
    input: {},
    ...(workflow.config === undefined ? {} : { config: workflow.config }),
    steps: new Map(),
  });
  const event = model(['trigger', 'tenant']);
  if (mapping.if !== undefined) checkLogic(doc, mapping.if, [...at, 'if'], event);
  for (const field of ['run', 'name', 'sender', 'payload'] as const) {
    if (mapping[field] !== undefined) checkTemplates(doc, mapping[field], [...at, field], event);
  }
  if (mapping.approvers !== undefined)
    checkTemplates(doc, mapping.approvers, [...at, 'approvers'], model(['tenant']));
  const { name } = mapping;
  if (typeof name !== 'string' || templateRefs(name).length > 0) return;
  if (!SIGNAL_NAME.test(name)) {
    doc.report([...at, 'name'], 'signal', `signal name "${name}" is not an identifier (letters, digits, _)`);
    return;
  }
  const waited = workflow.steps
    .filter((s) => s.uses === 'core.waitForSignal')
    .map((s) => (s.with as { name?: unknown } | undefined)?.name)
    .filter((n): n is string => typeof n === 'string');
  if (!waited.includes(name)) {
    const hint = didYouMean(name, waited) || (waited.length === 0 ? '; no step uses core.waitForSignal' : '');
    doc.report(
      [...at, 'name'],
      'signal',
      `no core.waitForSignal step of ${workflow.id} waits for "${name}"${hint}`,
    );
  }
}
