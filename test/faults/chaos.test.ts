/**
 * A CI-sized chaos run (the full size is `npm run chaos`): 200 runs through `atlas serve` and
 * three `atlas worker` processes, two workers SIGKILLed 3 to 6 s apart and the test's own
 * PostgreSQL restarted while 100 or more runs are active, against a fake provider that fails
 * often and, until the restart and both kills, answers 1.5 s late (so runs last). Every run reaches a terminal state, the
 * provider sees at most one effect per step and item, and every failed run says why.
 */
import { describe, expect, it } from 'vitest';
import { chaos } from './chaos-kit.ts';

describe('chaos: killed workers, a restarted database, a failing provider', () => {
  it('loses no run and duplicates no effect', async () => {
    const r = await chaos({
      runs: 200,
      workers: 3,
      killEvery: [3, 6],
      maxKills: 2,
      restartDatabase: true,
      restartWhenActive: 100,
      providerLatencyMs: 1_500,
      timeoutSeconds: 420,
    });
    console.log(`chaos: ${JSON.stringify(r)}`);
    expect(r.runs).toBe(200);
    expect(r.lost).toBe(0);
    expect(r.duplicatedEffects).toBe(0);
    expect(r.failedWithoutError).toBe(0);
    expect(r.kills).toBe(2);
    expect(r.activeAtRestart).toBeGreaterThanOrEqual(100);
    expect(r.byStatus['succeeded'] ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
