// The n8n graph as the converter walks it: main edges, attached sub-nodes, loops dropped, a stable order.
import type { N8nConnection, N8nNode, N8nWorkflow } from './export.ts';
import { clip } from './expressions.ts';
import { shortType } from './nodes.ts';

export interface Edge {
  from: string;
  out: number;
  to: string;
}

export interface Graph {
  byName: Map<string, N8nNode>;
  /** Sticky notes: comments, not steps. */
  stickies: N8nNode[];
  /** node → connection kind (`ai_languageModel`...) → the sub-nodes attached to it. */
  attached: Map<string, Map<string, N8nNode[]>>;
  edges: Edge[];
  isStep: (n: N8nNode) => boolean;
  /** The nodes that become steps (or triggers, branches, merges): no sticky notes, no sub-nodes. */
  active: N8nNode[];
}

/** Sticky notes become comments; sub-nodes (a chat model attached to an agent) belong to their node. */
export function readGraph(wf: N8nWorkflow): Graph {
  const byName = new Map(wf.nodes.map((n) => [n.name, n]));
  const stickies = wf.nodes.filter((n) => shortType(n.type) === 'stickyNote');
  const attached = new Map<string, Map<string, N8nNode[]>>();
  const subNodes = new Set<string>();
  const edges: { from: string; out: number; to: string }[] = [];
  for (const [source, byType] of wf.connections) {
    for (const [kind, outputs] of byType) {
      outputs.forEach((targets: N8nConnection[], out: number) => {
        for (const t of targets) {
          if (kind === 'main') edges.push({ from: source, out, to: t.node });
          else {
            subNodes.add(source);
            const m = attached.get(t.node) ?? new Map<string, N8nNode[]>();
            m.set(kind, [...(m.get(kind) ?? []), byName.get(source)!]);
            attached.set(t.node, m);
          }
        }
      });
    }
  }
  const isStep = (n: N8nNode) => shortType(n.type) !== 'stickyNote' && !subNodes.has(n.name);
  const active = wf.nodes.filter(isStep);
  return { byName, stickies, attached, edges, isStep, active };
}

/**
 * Loops: n8n's Loop Over Items feeds its body back into itself; that edge is dropped here
 * (the loop node itself becomes a failing step until forEach exists). Other cycles are refused.
 * Then a topological order, ties broken by canvas position then name, so output is stable and
 * reads left to right. A cycle is answered by why the workflow is refused.
 */
export function orderNodes(
  { byName, edges, isStep, active }: Graph,
  otherTriggers: Set<string>,
): { order: N8nNode[]; mainEdges: Edge[] } | string {
  const children = new Map<string, { out: number; to: string }[]>();
  for (const e of edges) children.set(e.from, [...(children.get(e.from) ?? []), { out: e.out, to: e.to }]);
  const reaches = (from: string, target: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === target) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const c of children.get(n) ?? []) stack.push(c.to);
    }
    return false;
  };
  const loopEdges = edges.filter(
    (e) => shortType(byName.get(e.to)!.type) === 'splitInBatches' && reaches(e.to, e.from),
  );
  const mainEdges = edges.filter(
    (e) =>
      !loopEdges.includes(e) &&
      !otherTriggers.has(e.from) &&
      isStep(byName.get(e.from)!) &&
      isStep(byName.get(e.to)!),
  );

  // Topological order, ties broken by canvas position then name, so output is stable and reads left to right.
  const order: N8nNode[] = [];
  const indegree = new Map(active.map((n) => [n.name, 0]));
  for (const e of mainEdges) indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  const byPosition = (a: N8nNode, b: N8nNode) =>
    a.position[0] - b.position[0] ||
    a.position[1] - b.position[1] ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const ready = active.filter((n) => indegree.get(n.name) === 0).sort(byPosition);
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    for (const e of mainEdges.filter((x) => x.from === n.name)) {
      const left = indegree.get(e.to)! - 1;
      indegree.set(e.to, left);
      if (left === 0) {
        ready.push(byName.get(e.to)!);
        ready.sort(byPosition);
      }
    }
  }
  if (order.length < active.length) {
    const stuck = active.filter((n) => !order.includes(n)).map((n) => `"${clip(n.name, 40)}"`);
    return `its connections form a cycle through ${stuck.slice(0, 5).join(', ')}; Atlas workflows run each step once`;
  }
  return { order, mainEdges };
}

/** Inputs that come from different outputs of one branch node never arrive together. */
export function exclusiveInputs(
  incoming: { from: string; out: number }[],
  branches: Map<string, unknown[]>,
): boolean {
  const from = new Set(incoming.map((e) => e.from));
  const outs = new Set(incoming.map((e) => e.out));
  return from.size === 1 && branches.has([...from][0]!) && outs.size === incoming.length;
}
