// Webhook flood at full size: 50,000 Stripe-signed deliveries (FLOOD_DELIVERIES to change it),
// 30% of them sent twice, while the API process is SIGKILLed and started again twice; the
// sender retries what died with the process, as providers do. Prints what was accepted and
// what the database holds: one event row and one run per accepted event, none for duplicates.
// Run: npm run flood
import { childEnvironment } from '../engine/config.ts';
import { flood } from '../test/faults/flood-kit.ts';
import { benchDatabase } from './support.ts';

const DELIVERIES = Number(childEnvironment()['FLOOD_DELIVERIES'] ?? 50_000);
const database = await benchDatabase('atlas_flood');
try {
  const r = await flood({
    deliveries: DELIVERIES,
    duplicates: 0.3,
    kills: 2,
    concurrency: 32,
    databaseUrl: database.url,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(
    `flood: ${r.sent.toLocaleString('en')} deliveries (${r.duplicatesSent.toLocaleString('en')} duplicates) in ${r.seconds.toFixed(0)} s, ${(r.sent / r.seconds).toFixed(0)}/s`,
  );
  console.log(
    `answered 2xx: ${r.answered2xx.toLocaleString('en')}; distinct events accepted: ${r.distinctAccepted.toLocaleString('en')}; resent after a dropped connection: ${r.retriesAfterNetworkErrors}; other answers: ${JSON.stringify(r.otherAnswers)}`,
  );
  console.log(
    `event rows: ${r.eventRows.toLocaleString('en')}; runs: ${r.runs.toLocaleString('en')}; doubled: ${r.doubled.length}; lost: ${r.lost.length}`,
  );
  console.log(`API restarts took ${r.restartSeconds.map((s) => `${s.toFixed(1)} s`).join(', ')}`);
  process.exitCode = r.doubled.length === 0 && r.lost.length === 0 && r.runs === r.distinctAccepted ? 0 : 1;
} finally {
  await database.stop();
}
