// Chaos at full size: 10,000 runs (CHAOS_RUNS to change it) through `atlas serve` and three
// `atlas worker` processes, a worker SIGKILLed every 5 to 15 s and started again, PostgreSQL
// restarted once mid-run, against a fake provider that answers 10% 5xx, 5% 429 with
// Retry-After, resets 2% of connections and hangs 1% past the step timeout (both after doing
// the work). Prints: runs lost, duplicated effects, failed runs without their error, and how
// long the queue took to make progress after each kill. Then the fuzz and the flood.
// Run: npm run chaos
import { childEnvironment } from '../engine/config.ts';
import { chaos } from '../test/faults/chaos-kit.ts';

const RUNS = Number(childEnvironment()['CHAOS_RUNS'] ?? 10_000);
const r = await chaos({
  runs: RUNS,
  workers: 3,
  killEvery: [5, 15],
  restartDatabase: true,
  timeoutSeconds: Number(childEnvironment()['CHAOS_TIMEOUT_S'] ?? 3_600),
  log: (line) => console.log(`  ${line}`),
});
console.log(
  `chaos: ${r.runs.toLocaleString('en')} runs in ${r.seconds.toFixed(0)} s; by status ${JSON.stringify(r.byStatus)}`,
);
console.log(
  `lost: ${r.lost}; duplicated effects: ${r.duplicatedEffects} (of ${r.effects.toLocaleString('en')} effects, ${r.requests.toLocaleString('en')} requests)`,
);
console.log(
  `failed runs without their error: ${r.failedWithoutError}; failed by kind: ${JSON.stringify(r.failedKinds)}`,
);
console.log(`provider faults: ${JSON.stringify(r.faults)}`);
console.log(
  `kills: ${r.kills}; progress again after a kill: p50 ${r.recovery.p50.toFixed(1)} s, max ${r.recovery.max.toFixed(1)} s`,
);
console.log(
  `PostgreSQL restart: ${r.databaseRestartSeconds?.toFixed(1)} s with ${r.activeAtRestart} runs active; progress again ${r.databaseRecoverySeconds?.toFixed(1)} s after it stopped; the longest a run start waited: ${r.longestStartSeconds.toFixed(1)} s`,
);
for (const line of r.diagnostics) console.log(`  ${line}`);
process.exitCode = r.lost === 0 && r.duplicatedEffects === 0 && r.failedWithoutError === 0 ? 0 : 1;
