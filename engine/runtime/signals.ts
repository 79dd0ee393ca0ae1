/**
 * Signals: a payload delivered to a run waiting in a `core.waitForSignal` step, by the API
 * (`POST /v1/runs/:id/signals/:name`) or by a webhook route. The wait ends with the payload
 * as its output and the run is due at once; the delivery is recorded with its sender, and a
 * repeated Idempotency-Key answers the first delivery without acting again.
 */
import type { Knex } from 'knex';
import { notifyWake } from '../db/cancel-channel.ts';
import { enqueueRun } from '../db/queue.ts';
import { lockRun } from '../db/runs.ts';
import { deliverSignal, type SignalRow, signalByKey, waitingForSignal } from '../db/signals.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';

export interface SignalRequest {
  tenantId: string;
  runId: string;
  name: string;
  payload: unknown;
  /** Who sent it: the API caller, or the approver a webhook named. */
  sender: string;
  idempotencyKey?: string;
  /** Only a run of this workflow may take it (a webhook route's mapping): another is not found. */
  workflowId?: string;
}

export interface SignalView {
  runId: string;
  name: string;
  sender: string;
  receivedAt: string;
  /** True when an earlier delivery with the same Idempotency-Key was answered again. */
  replayed: boolean;
}

export async function sendSignal(
  core: Core,
  req: SignalRequest,
  trx?: Knex.Transaction,
): Promise<SignalView> {
  return trx ? signalInTransaction(trx, req) : core.deps.db.transaction((t) => signalInTransaction(t, req));
}

/** Delivers the signal in the caller's transaction (the API's, or a webhook batch's). */
export async function signalInTransaction(t: Knex.Transaction, req: SignalRequest): Promise<SignalView> {
  const run = await lockRun(t, req.tenantId, req.runId);
  if (!run || (req.workflowId !== undefined && run.workflow_id !== req.workflowId))
    throw new RuntimeError('not_found', `There is no run ${req.runId}.`);
  if (req.idempotencyKey) {
    const earlier = await signalByKey(t, req.tenantId, req.runId, req.idempotencyKey);
    if (earlier) return view(earlier, true);
  }
  const wait =
    run.status === 'running' || run.status === 'waiting'
      ? await waitingForSignal(t, run, req.name)
      : undefined;
  if (!wait) {
    throw new RuntimeError(
      'conflict',
      `Run ${req.runId} is ${run.status} and not waiting for a signal "${req.name}".`,
    );
  }
  const row = await deliverSignal(t, wait, {
    name: req.name,
    sender: req.sender,
    payload: req.payload,
    idempotencyKey: req.idempotencyKey,
  });
  // Due now: this replaces the job waiting for the timeout; a process running the run sees it at once.
  await enqueueRun(t, run);
  if (run.status === 'running') await notifyWake(t, run.id);
  return view(row, false);
}

function view(row: SignalRow, replayed: boolean): SignalView {
  return {
    runId: row.run_id,
    name: row.name,
    sender: row.sender,
    receivedAt: row.created_at.toISOString(),
    replayed,
  };
}
