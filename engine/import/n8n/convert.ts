// One n8n workflow → one Atlas Workflow manifest (and a WebhookRoute for a generic webhook).
// The n8n graph is walked in topological order: every node becomes a step named after it,
// except branches (IF, Filter, Switch), whose conditions move onto the steps after them,
// and merges, which become `needs`. What cannot be translated becomes a step that fails
// with a message naming the node, and an entry of the report.
import type { N8nWorkflow } from './export.ts';
import { clip, isProblem, type Path, Problem, type Resolver } from './expressions.ts';
import { exclusiveInputs, orderNodes, readGraph } from './graph.ts';
import { commentText, stepIdFor, untranslatedStep } from './manifest-text.ts';
import { passThrough } from './node-kit.ts';
import { type DataMap, type Mapping, mapNode, shortType } from './nodes.ts';
import { eachItem, type Items, loopOver } from './nodes-items.ts';
import { pickTrigger } from './pick-trigger.ts';
import { isTrigger } from './triggers.ts';

export { commentText, stepIdFor } from './manifest-text.ts';

export interface Untranslated {
  node: string;
  type: string;
  version: number;
  message: string;
  /** The workflow-language construct that will translate it (`forEach`, `$expr`...). */
  needs?: string;
  /** Untranslated only because it reads a node that was not translated. */
  upstream?: true;
}

export interface Conversion {
  workflow?: Record<string, unknown>;
  route?: Record<string, unknown>;
  /** Comments to attach: step index → text; `top` for the whole manifest. */
  comments: { top: string[]; steps: string[][] };
  untranslated: Untranslated[];
  secrets: Map<string, string>;
  integrations: Map<string, string>;
  setup: string[];
  notes: string[];
  /** Why the workflow was refused, when it was. */
  refused?: string;
  /** The n8n node of each step, in step order. */
  stepNodes: string[];
}

export interface ConvertOptions {
  id: string;
  routes: Set<string>;
  /** For an Error Trigger: the Atlas id of the one workflow that names this one as its error workflow. */
  errorSource?: string | Problem;
  timezone?: string;
  /** n8n workflow ids → Atlas ids of the workflows imported together (for Execute Workflow). */
  workflows?: Map<string, string>;
  /** Nodes to leave untranslated, with the reason (their step did not validate). */
  forced?: Map<string, Problem>;
}

type Rule = unknown;

const and = (a: Rule | null, b: Rule | null): Rule | null =>
  a === null ? b : b === null ? a : { and: [a, b] };
const or = (list: (Rule | null)[]): Rule | null =>
  list.some((r) => r === null) ? null : list.length === 1 ? list[0] : { or: list };

export function convertWorkflow(wf: N8nWorkflow, opts: ConvertOptions): Conversion {
  const result: Conversion = {
    comments: { top: [], steps: [] },
    untranslated: [],
    secrets: new Map(),
    integrations: new Map(),
    setup: [],
    notes: [],
    stepNodes: [],
  };
  const refuse = (why: string): Conversion => ({ ...result, refused: why });
  const graph = readGraph(wf);
  const { byName, stickies, attached, active } = graph;

  // Sticky notes become comments; sub-nodes (a chat model attached to an agent) belong to their node.
  for (const note of stickies) {
    const content = String(note.parameters['content'] ?? '').trim();
    if (content) result.comments.top.push(commentText(`n8n note "${note.name}":\n${content}`));
  }

  const picked = pickTrigger(active, opts, result.notes);
  if (typeof picked === 'string') return refuse(picked);
  const { triggerNode, mapped } = picked;
  result.setup.push(...mapped.setup);
  result.notes.push(...mapped.notes);
  const otherTriggers = new Set(active.filter((n) => isTrigger(n) && n !== triggerNode).map((n) => n.name));

  const ordered = orderNodes(graph, otherTriggers);
  if (typeof ordered === 'string') return refuse(ordered);
  const { order, mainEdges } = ordered;

  const ids = new Set<string>();
  const steps: Record<string, unknown>[] = [];
  const stepComments: string[][] = [];
  const anchors = new Map<string, string[]>(); // node → step ids whose end means the node is done
  const conds = new Map<string, Rule | null>(); // node → condition for it to run
  const branches = new Map<string, unknown[]>(); // branch node → rule per output
  const data = new Map<string, (path: Path) => Path | Problem>();
  const done = new Set<string>();
  const itemsOf = new Map<string, Items>(); // node → the list its output items are (after a Split Out)
  const loops = new Set<string>(); // Loop Over Items nodes, whose output 0 is "done"
  let response: { status: number; body: unknown } | undefined;

  for (const node of order) {
    if (node === triggerNode || otherTriggers.has(node.name)) {
      if (node === triggerNode) {
        anchors.set(node.name, []);
        conds.set(node.name, null);
        data.set(node.name, mapped.data);
      } else {
        anchors.set(node.name, []);
        conds.set(node.name, false);
        data.set(node.name, () => new Problem(`"${node.name}" is a second trigger`));
      }
      done.add(node.name);
      continue;
    }
    const incoming = mainEdges.filter((e) => e.to === node.name);
    const sources = [...new Set(incoming.map((e) => e.from))];
    const type = shortType(node.type);
    const refs = new Set<string>();
    const parentData = (path: Path): Path | Problem => {
      if (sources.length !== 1)
        return new Problem(
          `"${clip(node.name, 40)}" reads $json but has ${sources.length === 0 ? 'no input' : 'several inputs'}; name the node: $('Node').item.json`,
        );
      return data.get(sources[0]!)!(path);
    };
    const resolve: Resolver = (name, path) => {
      if (name === null) {
        for (const s of sources) for (const a of anchors.get(s) ?? []) refs.add(a);
        return parentData(path);
      }
      if (!byName.has(name))
        return new Problem(`it reads the node "${clip(name, 40)}", which does not exist`);
      if (!done.has(name))
        return new Problem(`it reads "${clip(name, 40)}", which has not run yet at that point`);
      if (itemsOf.has(name) && !(sources.length === 1 && sources[0] === name))
        return new Problem(
          `it reads the item of "${clip(name, 40)}" inside a loop from elsewhere; Atlas reads the item of the step just before`,
        );
      for (const a of anchors.get(name) ?? []) refs.add(a);
      return data.get(name)!(path);
    };
    const items = sources.length === 1 ? itemsOf.get(sources[0]!) : undefined;
    let mapping: Mapping;
    const forced = opts.forced?.get(node.name);
    if (forced) mapping = forced;
    else if (node.disabled) mapping = { kind: 'pass' };
    else if (incoming.some((e) => loops.has(e.from) && e.out === 0))
      mapping = new Problem(
        'it runs when the loop is done; gather the items with an Aggregate after the loop body instead',
      );
    else if (sources.length > 1 && sources.some((s) => itemsOf.has(s)))
      mapping = new Problem('it joins the items of a loop with other inputs; gather them first (Aggregate)');
    else if (isTrigger(node)) mapping = new Problem('a second trigger');
    else if (sources.length > 1 && type !== 'merge' && !exclusiveInputs(incoming, branches))
      mapping = new Problem(
        'n8n runs this node once for each input that reaches it; Atlas runs a step once: put a Merge node before it',
      );
    else
      mapping = mapNode({
        node,
        resolve,
        secret: (name, why) => {
          if (!result.secrets.has(name)) result.secrets.set(name, why);
          return name;
        },
        integration: (provider, why) => {
          if (!result.integrations.has(provider)) result.integrations.set(provider, why);
        },
        note: (text) => result.notes.push(text),
        attached: (kind) => attached.get(node.name)?.get(kind) ?? [],
        workflowFor: (n8nId) => opts.workflows?.get(n8nId),
        ...(items ? { items } : {}),
        ...(opts.timezone === undefined ? {} : { timezone: opts.timezone }),
      });
    for (const a of attached.get(node.name)?.values() ?? []) for (const sub of a) done.add(sub.name);

    const cond = or(
      incoming.length === 0
        ? [null]
        : incoming.map((e) => {
            const rules = branches.get(e.from);
            return and(conds.get(e.from) ?? null, rules ? (rules[e.out] ?? false) : null);
          }),
    );
    const parentAnchors = [...new Set(sources.flatMap((s) => anchors.get(s) ?? []))];
    conds.set(node.name, cond);
    done.add(node.name);

    if (items && !isProblem(mapping) && ['branch', 'merge', 'response'].includes(mapping.kind))
      mapping = new Problem('a condition, merge or answer per item of a loop; Atlas decides once per step');
    if (!isProblem(mapping) && mapping.kind === 'response') {
      response = { status: mapping.status, body: mapping.body };
      if (!mapped.route) mapping = new Problem('Respond to Webhook without a webhook trigger');
    }
    if (isProblem(mapping) || mapping.kind === 'step') {
      const id = stepIdFor(node.name, ids);
      const needs = [...new Set([...parentAnchors, ...refs])].sort();
      const stepDoc: Record<string, unknown> = { id, name: clip(node.name, 120) };
      const comments: string[] = [];
      if (isProblem(mapping)) {
        const failing = untranslatedStep(node, mapping);
        result.untranslated.push(failing.entry);
        Object.assign(stepDoc, failing.step);
        comments.push(commentText(`NOT TRANSLATED: ${node.type} v${node.typeVersion}: ${mapping.message}`));
        data.set(
          node.name,
          () => new Problem(`it reads "${clip(node.name, 40)}", which was not translated`, undefined, true),
        );
        anchors.set(node.name, [id]);
      } else {
        Object.assign(stepDoc, { uses: mapping.uses, with: mapping.with }, mapping.extra ?? {});
        if (items && !mapping.gathers) stepDoc['forEach'] = loopOver(items);
        comments.push(
          commentText(`${node.type} v${node.typeVersion}${mapping.comment ? `: ${mapping.comment}` : ''}`),
        );
        const own: DataMap | undefined = mapping.data;
        data.set(node.name, (path) => {
          if (!own)
            return new Problem(
              `the output of "${clip(node.name, 40)}" (${type}) differs in Atlas; read the step's documented output`,
            );
          const p = own(path);
          if (p === 'parent') return parentData(path);
          return isProblem(p) ? p : ['steps', id, 'output', ...p];
        });
        anchors.set(node.name, [id]);
        if (mapping.emits) {
          itemsOf.set(node.name, { path: ['steps', id, 'output'], item: mapping.emits });
          data.set(node.name, mapping.emits);
        }
        if (items && !mapping.gathers) {
          // A pass-through step's items are the ones it received; others' are its output list.
          const loop = own === passThrough ? items : eachItem(id, data.get(node.name)!);
          itemsOf.set(node.name, loop);
          data.set(node.name, loop.item);
        }
      }
      if (isProblem(mapping) && items)
        itemsOf.set(node.name, { path: ['steps', id, 'output'], item: data.get(node.name)! });
      if (cond !== null) stepDoc['if'] = cond;
      const previous = steps.at(-1)?.['id'];
      if (!(needs.length === 1 && needs[0] === previous) && !(needs.length === 0 && previous === undefined))
        stepDoc['needs'] = needs;
      if (isProblem(mapping)) stepDoc['retry'] = { maxAttempts: 1 };
      steps.push(stepDoc);
      result.stepNodes.push(node.name);
      stepComments.push(comments);
      continue;
    }
    // Not a step: branches, pass-throughs, merges and the webhook response.
    anchors.set(node.name, [...new Set([...parentAnchors, ...refs])]);
    if (mapping.kind === 'branch') branches.set(node.name, mapping.outputs);
    if (mapping.kind === 'split') {
      if (mapping.done) loops.add(node.name);
      itemsOf.set(node.name, mapping.items);
      data.set(node.name, mapping.items.item);
      continue;
    }
    if (items) itemsOf.set(node.name, items);
    if (mapping.kind === 'merge')
      data.set(
        node.name,
        () =>
          new Problem(
            `"${clip(node.name, 40)}" merges several inputs; read the node you mean with $('Node')`,
          ),
      );
    else data.set(node.name, parentData);
    if (node.disabled) result.notes.push(`the disabled node "${node.name}" was left out`);
  }

  if (mapped.route) {
    if (mapped.respondsWithNode && response) mapped.route['response'] = response;
    result.route = mapped.route;
  }
  if (steps.length === 0) {
    steps.push({ id: 'nothing', uses: 'core.noop', with: {} });
    stepComments.push([' the n8n workflow has no node after its trigger']);
  }
  result.comments.steps = stepComments;
  result.workflow = {
    apiVersion: 'atlas/v1',
    kind: 'Workflow',
    id: opts.id,
    name: clip(wf.name, 120),
    description: clip(`Imported from the n8n workflow "${wf.name}"${wf.id ? ` (id ${wf.id})` : ''}.`, 2000),
    trigger: mapped.trigger,
    steps,
  };
  return result;
}
