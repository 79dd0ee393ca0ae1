/**
 * No two shipped workflows are the same workflow under other names: each one's shape (what
 * starts it, and per step the action, the loop, the wait, the condition and the provider
 * data its input reads, with names, texts and numbers left out) is compared with every other's, and
 * a pair that is the same, or the same but for one step in ten, fails.
 */
import { describe, expect, it } from 'vitest';
import { loadShippedCatalogue } from '../../engine/manifest/gen-catalogue.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Shape {
  id: string;
  trigger: string;
  steps: string[];
}

/** A value with its literals left out: templates keep the paths they read, step ids by position. */
function skeleton(value: unknown, stepIndex: Map<string, number>): Json {
  if (typeof value === 'string') {
    const reads = [...value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) =>
      (m[1] ?? '')
        .replace(/\?\?.*$/, '')
        .trim()
        .replace(/^steps\.([A-Za-z0-9_]+)/, (_, id: string) => `steps.#${stepIndex.get(id) ?? '?'}`)
        // The names a workflow gives its input, settings and secrets are names too.
        .replace(/^(input|tenant\.config|secrets)\..*$/, '$1'),
    );
    return reads.length > 0 ? reads.join(' ') : '_';
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return '_';
  if (Array.isArray(value)) return value.map((v) => skeleton(v, stepIndex));
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value as object).sort())
      out[key] = skeleton((value as Record<string, unknown>)[key], stepIndex);
    return out;
  }
  return '_';
}

function shapeOf(manifest: Record<string, unknown>): Shape {
  const trigger = manifest['trigger'] as Record<string, unknown>;
  const steps = manifest['steps'] as Array<Record<string, unknown>>;
  const stepIndex = new Map(steps.map((s, i) => [s['id'] as string, i]));
  // A schedule's time is a setting, not what the workflow does.
  const { cron: _cron, input: _input, ...what } = trigger;
  return {
    id: manifest['id'] as string,
    trigger:
      JSON.stringify(skeleton(what, stepIndex)) + JSON.stringify(what['events'] ?? what['workflow'] ?? ''),
    steps: steps.map((s) => {
      const { id: _id, ...rest } = s;
      return JSON.stringify({ ...(skeleton(rest, stepIndex) as object), uses: s['uses'] });
    }),
  };
}

/** 1 for the same steps in the same order; the longest common subsequence over the longer list. */
function likeness(a: string[], b: string[]): number {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      table[i]![j] =
        a[i - 1] === b[j - 1] ? table[i - 1]![j - 1]! + 1 : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
  return table[a.length]![b.length]! / Math.max(a.length, b.length);
}

function twins(shapes: Shape[]): string[] {
  const found: string[] = [];
  for (const [i, a] of shapes.entries())
    for (const b of shapes.slice(i + 1)) {
      if (a.trigger !== b.trigger) continue;
      const alike = likeness(a.steps, b.steps);
      if (alike === 1 || (alike >= 0.9 && Math.min(a.steps.length, b.steps.length) >= 4))
        found.push(`${a.id} ~ ${b.id} (${Math.round(alike * 100)}%)`);
    }
  return found;
}

const catalogue = await loadShippedCatalogue();
const shapes = catalogue
  .workflows()
  .map(({ manifest }) => shapeOf(manifest as unknown as Record<string, unknown>));

describe('the catalogue has no workflow twice', () => {
  it('ships no two workflows of the same shape', () => {
    expect(shapes.length).toBeGreaterThanOrEqual(90);
    expect(twins(shapes)).toEqual([]);
  });

  it('finds a copy under other names, texts and step ids', () => {
    const original = catalogue.workflows().find((w) => w.manifest.id === 'WF-087')!.manifest;
    const text = JSON.stringify(original)
      .replaceAll('WF-087', 'WF-187')
      .replaceAll('firstCheck', 'lookAgain')
      .replaceAll('Reminder', 'Still waiting')
      .replaceAll('FINANCE_TELEGRAM_CHAT', 'BILLING_CHAT');
    const copy = shapeOf(JSON.parse(text) as Record<string, unknown>);
    expect(twins([...shapes, copy])).toEqual(['WF-087 ~ WF-187 (100%)']);
  });
});
