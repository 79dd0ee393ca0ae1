/**
 * Finishing a run: its metrics and log line, and, when something hangs on its end, one
 * transaction that ends it, starts the runs its end triggers and wakes the next run waiting
 * in its concurrency group.
 */
import type { Knex } from 'knex';
import { enqueueRun } from '../db/queue.ts';
import { finishRun, nextQueuedInGroup, type RunRow } from '../db/runs.ts';
import { notifyRunFailed } from '../notify/record.ts';
import { hasWaitingCaller, returnToCaller } from './calls.ts';
import type { DefaultGate } from './defaults.ts';
import type { RuntimeDeps } from './deps.ts';
import type { Dispatcher } from './dispatch.ts';
import { EventTriggers } from './events.ts';
import type { RuntimeMetrics } from './metrics.ts';
import type { StepState } from './plan.ts';

export class Finishing {
  readonly #events: EventTriggers;

  constructor(
    private readonly deps: RuntimeDeps,
    private readonly metrics: RuntimeMetrics,
    private readonly dispatcher: Dispatcher,
    gate: DefaultGate,
  ) {
    this.#events = new EventTriggers(deps.catalogue, gate);
  }

  /** True when nothing hangs on the run's end: no concurrency group, no watcher, no waiting caller. */
  endsAlone(run: RunRow): boolean {
    return run.concurrency_key === null && !this.#events.watches(run.workflow_id) && !hasWaitingCaller(run);
  }

  /** Metrics and the log line of a run that ended. */
  async ended(
    run: RunRow,
    status: 'succeeded' | 'failed',
    error?: { step?: string; message?: string } | null,
  ): Promise<void> {
    this.metrics.run(run.workflow_id, status, run.started_at ?? run.created_at);
    this.dispatcher.slotFreed();
    const fields = { tenant: run.tenant_id, run: run.id, workflow: run.workflow_id, status };
    if (status === 'succeeded') this.deps.log.info(fields, 'run:succeeded');
    else {
      // A failure is worth a look: warn, with the step and the reason.
      const reason = error?.step
        ? `step ${error.step}: ${error.message ?? 'failed'}`
        : (error?.message ?? 'failed');
      this.deps.log.warn({ ...fields, step: error?.step, reason }, `run:failed ${reason}`);
      await notifyRunFailed(this.deps.db, run, error).catch((err: unknown) =>
        this.deps.log.warn({ err, ...fields }, 'notify: the failed run was not recorded'),
      );
    }
  }

  /** Ends the run in a transaction with what its end starts (see `afterEnd`). */
  async finish(
    run: RunRow,
    status: 'succeeded' | 'failed',
    states: Map<string, StepState>,
    end: { output?: unknown; error: Record<string, unknown> | null },
  ): Promise<void> {
    const error = end.error as { step?: string; message?: string } | null;
    const ended = await this.deps.db.transaction(async (trx) => {
      if (!(await finishRun(trx, run, status, error, end.output))) return false;
      await this.afterEnd(trx, { ...run, status, error, output: end.output }, states);
      return true;
    });
    if (ended) await this.ended(run, status, error);
  }

  /** Event triggers, the concurrency wake-up and the caller's return, for any final status (cancel too). */
  async afterEnd(
    trx: Knex.Transaction,
    run: RunRow,
    states: Map<string, StepState> = new Map(),
  ): Promise<void> {
    if (run.concurrency_key !== null) {
      const next = await nextQueuedInGroup(trx, run);
      if (next) await enqueueRun(trx, next);
    }
    await returnToCaller(trx, run);
    await this.#events.fire(trx, run, states, () => this.dispatcher.poke());
  }
}
