/**
 * Signals to waiting runs: the `waiting` attempt of a `core.waitForSignal` step, ended by a
 * delivered signal, and `run_signals`, the record of every delivery (sender, payload, the
 * client's Idempotency-Key). Every query names its tenant.
 */
import type { Knex } from 'knex';
import type { StepRunRow } from './step-runs.ts';

type Db = Knex | Knex.Transaction;

export interface SignalRow {
  id: number;
  tenant_id: string;
  run_id: string;
  name: string;
  step_run_id: number;
  sender: string;
  payload: unknown;
  idempotency_key: string | null;
  created_at: Date;
}

/** The earlier delivery with this Idempotency-Key, if any. */
export async function signalByKey(
  db: Db,
  tenantId: string,
  runId: string,
  key: string,
): Promise<SignalRow | undefined> {
  return db<SignalRow>('run_signals')
    .where({ tenant_id: tenantId, run_id: runId, idempotency_key: key })
    .first();
}

/** The run's attempt waiting for the signal `name` (locked), in its current run attempt. */
export async function waitingForSignal(
  trx: Knex.Transaction,
  run: { id: string; tenant_id: string; run_attempt: number },
  name: string,
): Promise<StepRunRow | undefined> {
  return trx<StepRunRow>('step_runs')
    .where({
      tenant_id: run.tenant_id,
      run_id: run.id,
      run_attempt: run.run_attempt,
      status: 'waiting',
      uses: 'core.waitForSignal',
    })
    .whereRaw("input->>'name' = ?", [name])
    .orderBy('id')
    .forUpdate()
    .first();
}

/** Ends the wait with the signal's payload as the step's output, and records the delivery. */
export async function deliverSignal(
  trx: Knex.Transaction,
  wait: StepRunRow,
  signal: { name: string; sender: string; payload: unknown; idempotencyKey?: string | undefined },
): Promise<SignalRow> {
  const payload = JSON.stringify(signal.payload ?? null);
  await trx('step_runs')
    .where({ id: wait.id, tenant_id: wait.tenant_id, status: 'waiting' })
    .update({
      status: 'succeeded',
      output: payload,
      retry_at: null,
      finished_at: trx.fn.now(),
      duration_ms: trx.raw('(extract(epoch from now() - started_at) * 1000)::int'),
    });
  const [row] = (await trx('run_signals')
    .insert({
      tenant_id: wait.tenant_id,
      run_id: wait.run_id,
      name: signal.name,
      step_run_id: wait.id,
      sender: signal.sender,
      payload,
      idempotency_key: signal.idempotencyKey ?? null,
    })
    .returning('*')) as SignalRow[];
  return row!;
}

/** How many of these attempts still wait (a signal may have ended one meanwhile). */
export async function countWaiting(trx: Knex.Transaction, tenantId: string, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = (await trx('step_runs')
    .where({ tenant_id: tenantId, status: 'waiting' })
    .whereIn('id', ids)
    .count({ n: '*' })) as Array<{ n: number | string }>;
  return Number(row?.n ?? 0);
}
