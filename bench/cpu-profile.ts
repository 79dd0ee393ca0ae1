// A V8 CPU profile (what `node --cpu-prof` writes) summed by function and by package.
import type { Profiler } from 'node:inspector';

export interface FrameTime {
  name: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: FrameTime[];
  packages: FrameTime[];
}

/** `node_modules/<pkg>` (scoped too), `atlas` for the repository's own files, `node` for Node's. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native';
  if (url.startsWith('node:')) return 'node';
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) {
    const rest = url.slice(at + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? 'native');
  }
  return 'atlas';
}

function frameName(frame: Profiler.ProfileNode['callFrame']): string {
  const file = frame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/(node_modules|engine|bench|connectors)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/**
 * Self time is the samples a frame was on top of the stack; total time the samples it was
 * anywhere on it (counted once per sample, so recursion does not count twice).
 */
export function summarise(profile: Profiler.Profile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const pkgSelf = new Map<string, number>();
  const pkgTotal = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let totalMs = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    totalMs += ms;
    const leaf = byId.get(samples[i]!)!;
    add(fnSelf, frameName(leaf.callFrame), ms);
    add(pkgSelf, packageOf(leaf.callFrame.url, leaf.callFrame.functionName), ms);
    const fns = new Set<string>();
    const pkgs = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(root)') continue;
      fns.add(frameName(frame));
      pkgs.add(packageOf(frame.url, frame.functionName));
    }
    for (const f of fns) add(fnTotal, f, ms);
    for (const p of pkgs) add(pkgTotal, p, ms);
  }
  const rank = (self: Map<string, number>, total: Map<string, number>, by: 'selfMs' | 'totalMs') =>
    [...new Set([...self.keys(), ...total.keys()])]
      .map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name) ?? 0 }))
      .sort((a, b) => b[by] - a[by])
      .slice(0, top);
  return {
    totalMs,
    functions: rank(fnSelf, fnTotal, 'selfMs'),
    packages: rank(pkgSelf, pkgTotal, 'selfMs'),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const pct = (ms: number) => `${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%`;
  const rows = (list: FrameTime[]) =>
    list.map((f) => `  ${pct(f.selfMs)} self  ${pct(f.totalMs)} total  ${f.name}`).join('\n');
  return [
    `CPU profile: ${(s.totalMs / 1000).toFixed(1)} s sampled`,
    'by package:',
    rows(s.packages),
    'by function (top self time):',
    rows(s.functions),
  ].join('\n');
}

/** A node of V8's sampling heap profile (`HeapProfiler.stopSampling`). */
interface HeapNode {
  callFrame: Profiler.ProfileNode['callFrame'];
  selfSize: number;
  children: HeapNode[];
}

/**
 * Bytes allocated by function and by package (self: where the allocation happened) over a
 * sampling heap profile taken with the collected objects included, so it counts garbage too.
 */
export function summariseAllocations(
  head: HeapNode,
  top = 12,
): { totalBytes: number; functions: FrameTime[]; packages: FrameTime[] } {
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let totalBytes = 0;
  const walk = (node: HeapNode) => {
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      add(fns, frameName(node.callFrame), node.selfSize);
      add(pkgs, packageOf(node.callFrame.url, node.callFrame.functionName), node.selfSize);
    }
    for (const c of node.children) walk(c);
  };
  walk(head);
  // selfMs holds bytes here; FrameTime's shape is reused for the printing.
  const rank = (m: Map<string, number>) =>
    [...m]
      .map(([name, bytes]) => ({ name, selfMs: bytes, totalMs: bytes }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top);
  return { totalBytes, functions: rank(fns), packages: rank(pkgs) };
}
