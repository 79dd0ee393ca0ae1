// The one trigger of an n8n workflow, as an Atlas trigger (or why there is none to have).
import type { N8nNode } from './export.ts';
import { isProblem, Problem } from './expressions.ts';
import { shortType } from './node-kit.ts';
import { isTrigger, type MappedTrigger, mapTrigger } from './triggers.ts';

export function pickTrigger(
  active: N8nNode[],
  opts: { routes: Set<string>; errorSource?: string | Problem; timezone?: string },
  notes: string[],
): { triggerNode: N8nNode | undefined; mapped: MappedTrigger } | string {
  // The trigger: Atlas runs any workflow by hand, so a Manual Trigger beside another one is dropped.
  let triggers = active.filter((n) => isTrigger(n) && !n.disabled);
  const nonManual = triggers.filter((n) => !['manualTrigger', 'start'].includes(shortType(n.type)));
  if (nonManual.length > 0 && nonManual.length < triggers.length) {
    notes.push('the Manual Trigger was dropped: every Atlas workflow can be started by hand');
    triggers = nonManual;
  }
  if (triggers.length > 1)
    return `it has ${triggers.length} triggers (${triggers.map((t) => `"${t.name}"`).join(', ')}); an Atlas workflow has one: split it`;
  const triggerNode = triggers[0];
  let mapped: MappedTrigger;
  if (triggerNode) {
    const t = mapTrigger(triggerNode, {
      routes: opts.routes,
      ...(opts.errorSource === undefined ? {} : { errorSource: opts.errorSource }),
      ...(opts.timezone === undefined ? {} : { timezone: opts.timezone }),
    });
    if (isProblem(t)) return `its trigger "${triggerNode.name}" (${triggerNode.type}): ${t.message}`;
    mapped = t;
  } else {
    mapped = {
      trigger: { type: 'manual' },
      data: () => new Problem('there is no trigger item'),
      setup: [],
      notes: [],
    };
    notes.push('no trigger: it starts by hand, through the API or `atlas run`');
  }
  return { triggerNode, mapped };
}
