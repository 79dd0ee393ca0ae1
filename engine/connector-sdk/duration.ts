// Durations as authors write them (`500ms`, `30s`, `5m`, `1h30m`, `3d`), in one place for
// manifests and connector inputs.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const GROUP = /(\d+)(ms|s|m|h|d)/g;
const WHOLE = /^(\d+(ms|s|m|h|d))+$/;

/** Milliseconds of a duration string; throws a RangeError naming the expected form. */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) throw new RangeError(`"${text}" is not a duration like 500ms, 30s, 5m, 1h30m`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(GROUP))
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total;
}
