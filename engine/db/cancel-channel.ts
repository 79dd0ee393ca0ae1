/**
 * Cancellation: a cancelled run's id is sent with NOTIFY on `atlas_run_cancel`, in the
 * cancelling transaction; every worker listens, and the one running the run aborts it. The
 * same channel carries wake-ups (`wake:<run id>`): a wait of an active run ended (a signal,
 * a child's end), and the process running it reads the ledger again at once.
 */
import type { Knex } from 'knex';
import pg from 'pg';

const CANCEL_CHANNEL = 'atlas_run_cancel';

/** Tells every worker, once the transaction commits, that the run was cancelled. */
export async function notifyCancel(trx: Knex.Transaction, runId: string): Promise<void> {
  await trx.raw('select pg_notify(?, ?)', [CANCEL_CHANNEL, runId]);
}

const WAKE = 'wake:';

/** Tells the process running the run, once the transaction commits, that one of its waits ended. */
export async function notifyWake(trx: Knex.Transaction, runId: string): Promise<void> {
  await trx.raw('select pg_notify(?, ?)', [CANCEL_CHANNEL, `${WAKE}${runId}`]);
}

/**
 * Listens on its own connection; `onLost` is called once if the connection fails (after it
 * is closed), so that the caller may listen again.
 */
export async function listenForCancels(
  connectionString: string,
  onCancel: (runId: string) => void,
  onLost: (err: Error) => void,
  onWake: (runId: string) => void = () => {},
): Promise<{ close(): Promise<void> }> {
  const client = new pg.Client({ connectionString });
  client.on('notification', (msg) => {
    if (msg.channel !== CANCEL_CHANNEL || !msg.payload) return;
    if (msg.payload.startsWith(WAKE)) onWake(msg.payload.slice(WAKE.length));
    else onCancel(msg.payload);
  });
  client.on('error', (err) => {
    client.end().catch(() => {});
    onLost(err);
  });
  await client.connect();
  await client.query(`listen ${CANCEL_CHANNEL}`);
  return { close: () => client.end() };
}
