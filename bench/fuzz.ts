// Fuzz at full size: 100,000 generated requests (FUZZ_RUNS to change it) across every route
// of a real `atlas serve` process on loopback. Prints the answers by status, every 5xx or
// dropped request, error answers that are not problem+json, and the server's memory after
// warm-up and at the end (target: within 20%).
// Run: npm run fuzz
import { childEnvironment } from '../engine/config.ts';
import { fuzz, rssMb, startFuzzServer } from '../test/faults/fuzz-kit.ts';
import { benchDatabase } from './support.ts';

const RUNS = Number(childEnvironment()['FUZZ_RUNS'] ?? 100_000);

const database = await benchDatabase('atlas_fuzz');
try {
  const { target, engine, stop } = await startFuzzServer(database.url);
  try {
    const pid = engine.child.pid!;
    const started = Date.now();
    await fuzz(target, { runs: 2_000, seed: 7, concurrency: 16 });
    const warm = await rssMb(pid);
    const stats = await fuzz(target, {
      runs: RUNS,
      seed: 2026,
      concurrency: 16,
      onProgress: (sent) => {
        if (sent % 10_000 === 0) console.log(`  ${sent.toLocaleString('en')} sent`);
      },
    });
    const end = await rssMb(pid);
    const alive = engine.child.exitCode === null;
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `fuzz: ${stats.sent.toLocaleString('en')} requests in ${seconds.toFixed(0)} s (after 2,000 of warm-up)`,
    );
    console.log(`answers by status: ${JSON.stringify(stats.statuses)}`);
    console.log(
      `5xx or dropped: ${stats.failures.length}; error answers not problem+json: ${stats.unclear.length}`,
    );
    for (const f of [...stats.failures, ...stats.unclear].slice(0, 10)) console.log(JSON.stringify(f));
    console.log(
      `server alive: ${alive}; RSS after warm-up ${warm.toFixed(0)} MB, at the end ${end.toFixed(0)} MB (ratio ${(end / warm).toFixed(2)}, target ≤ 1.20)`,
    );
    process.exitCode = stats.failures.length === 0 && alive && end <= warm * 1.2 ? 0 : 1;
  } finally {
    await stop();
  }
} finally {
  await database.stop();
}
