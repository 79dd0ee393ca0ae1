/**
 * The runtime's shared machinery for the advance loop: claiming a run under a lease and
 * its concurrency limit, pinned workflow versions, cancellation signals, and finishing a
 * run (with the runs its completion triggers) in one transaction.
 */
import type { Knex } from 'knex';
import { GroupCommit } from '../db/group-commit.ts';
import { LedgerWriter } from '../db/ledger-writer.ts';
import { loadManifestVersion, type RunRow } from '../db/runs.ts';
import { evaluate, isTruthy } from '../expr/index.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import { addJob } from '../queue/add-job.ts';
import { DefaultGate, isDefaultOn, loadHoldings, recordSkips, type Skip } from './defaults.ts';
import type { RuntimeDeps } from './deps.ts';
import { Dispatcher } from './dispatch.ts';
import type { RuntimeMetrics } from './metrics.ts';
import type { StepState } from './plan.ts';
import type { FailureRecord } from './retry.ts';
import { createRun, makeTriggerBatcher, RUN_TASK } from './trigger.ts';

const DEFAULT_LEASE_MS = 30_000;
/** A run waiting for a concurrency slot is also re-checked this often, in case a wake-up is lost. */
const CONCURRENCY_RECHECK_MS = 15_000;

/** A claimed run; `fresh` when it had never started, so it has no step attempts yet. */
export type ClaimedRun = RunRow & { fresh: boolean };

export class Core {
  readonly #workflows = new Map<string, Workflow>();
  readonly #cancels = new Map<string, AbortController>();
  readonly leaseMs: number;
  readonly writer: LedgerWriter;
  /** Hands runs committed in callers' transactions to the queue (the run outbox). */
  readonly dispatcher: Dispatcher;
  /** Group commit of runs triggered outside any caller transaction. */
  readonly triggers: ReturnType<typeof makeTriggerBatcher>;
  readonly #claims: GroupCommit<{ id: string; tenant_id: string }, ClaimedRun | undefined>;
  /** Checks what default-on workflows need from tenants that did not enable them. */
  readonly gate: DefaultGate;
  /** Workflows that some `event` trigger watches: their runs end in a transaction. */
  #watchedFor: { version: string; ids: Set<string> } | undefined;

  constructor(
    readonly deps: RuntimeDeps,
    readonly metrics: RuntimeMetrics,
  ) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    this.writer = new LedgerWriter(deps.db);
    this.dispatcher = new Dispatcher(deps.db, deps.log);
    this.triggers = makeTriggerBatcher(deps.db);
    this.#claims = new GroupCommit((items) => this.#claimBatch(items));
    this.gate = new DefaultGate(deps);
  }

  /** Workflows some `event` trigger watches, for the catalogue in use (it can be reloaded). */
  get #watched(): Set<string> {
    const { version } = this.deps.catalogue;
    if (this.#watchedFor?.version !== version) {
      const ids = this.deps.catalogue
        .workflows()
        .map((e) => e.manifest.trigger)
        .flatMap((t) => (t.type === 'event' ? [t.workflow] : []));
      this.#watchedFor = { version, ids: new Set(ids) };
    }
    return this.#watchedFor.ids;
  }

  /** True when nothing hangs on the run's end: no concurrency group, no watcher. */
  endsAlone(run: RunRow): boolean {
    return run.concurrency_key === null && !this.#watched.has(run.workflow_id);
  }

  /** Metrics and the log line of a run that ended. */
  ended(
    run: RunRow,
    status: 'succeeded' | 'failed',
    error?: { step?: string; message?: string } | null,
  ): void {
    this.metrics.run(run.workflow_id, status, run.started_at ?? run.created_at);
    const fields = { tenant: run.tenant_id, run: run.id, workflow: run.workflow_id, status };
    if (status === 'succeeded') this.deps.log.info(fields, 'run:succeeded');
    else {
      // A failure is worth a look: warn, with the step and the reason.
      const reason = error ? `step ${error.step}: ${error.message ?? 'failed'}` : 'failed';
      this.deps.log.warn({ ...fields, step: error?.step, reason }, `run:failed ${reason}`);
    }
  }

  now = (): Date => this.deps.now?.() ?? new Date();
  random = (): number => this.deps.random?.() ?? Math.random();

  /** The workflow version the run started with (the catalogue's, or the stored one). */
  async workflowFor(run: RunRow): Promise<Workflow> {
    let workflow = this.#workflows.get(run.manifest_hash);
    if (workflow) return workflow;
    const current = this.deps.catalogue.workflow(run.workflow_id);
    workflow =
      current?.hash === run.manifest_hash
        ? current.manifest
        : ((await loadManifestVersion(this.deps.db, run.manifest_hash)) as Workflow | undefined);
    if (!workflow) throw new Error(`run ${run.id} pins manifest ${run.manifest_hash}, which is not stored`);
    this.#workflows.set(run.manifest_hash, workflow);
    return workflow;
  }

  /**
   * Takes the run for this process: it must be queued or running, its lease free (or ours,
   * or expired), and its concurrency group below its limit. Undefined means "not now": the
   * run is finished, or another worker holds it, or it waits for a slot (rescheduled).
   */
  async claim(runId: string, tenantId: string): Promise<ClaimedRun | undefined> {
    const claimed = await this.#claims.submit({ id: runId, tenant_id: tenantId });
    if (claimed) return claimed;
    const slow = await this.deps.db.transaction((trx) => this.#claimSlow(trx, runId, tenantId));
    return slow && { ...slow, fresh: false };
  }

  /**
   * The common claim (no concurrency group, lease free), group-committed with the claims of
   * other runs starting in this process. The self-join reads each row as it was, so `fresh`
   * tells whether the run ever started (a fresh run has no step attempts to read back).
   */
  async #claimBatch(items: Array<{ id: string; tenant_id: string }>): Promise<Array<ClaimedRun | undefined>> {
    const { db, processId } = this.deps;
    const { rows } = await db.raw<{ rows: ClaimedRun[] }>(
      `update workflow_runs r
          set status = 'running', started_at = coalesce(r.started_at, now()), lease_owner = ?,
              lease_expires_at = now() + make_interval(secs => ?), updated_at = now()
         from workflow_runs o, json_to_recordset(?::json) as c(id uuid, tenant_id text)
        where r.id = c.id and r.tenant_id = c.tenant_id and o.id = r.id
          and r.status in ('queued', 'running') and r.concurrency_key is null
          and (r.lease_owner is null or r.lease_owner = ? or r.lease_expires_at < now())
      returning r.*, o.started_at is null as fresh`,
      [processId, this.leaseMs / 1000, JSON.stringify(items), processId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return items.map((it) => byId.get(it.id));
  }

  #claimFields() {
    const { db, processId } = this.deps;
    return {
      status: 'running',
      started_at: db.raw('coalesce(started_at, now())'),
      lease_owner: processId,
      lease_expires_at: db.raw(`now() + make_interval(secs => ?)`, [this.leaseMs / 1000]),
      updated_at: db.fn.now(),
    };
  }

  async #claimSlow(trx: Knex.Transaction, runId: string, tenantId: string): Promise<RunRow | undefined> {
    const run = await trx<RunRow>('workflow_runs')
      .where({ id: runId, tenant_id: tenantId })
      .forUpdate()
      .first();
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return undefined;
    const leased =
      run.lease_owner && run.lease_owner !== this.deps.processId && run.lease_expires_at! > this.now();
    if (leased) {
      await this.#requeue(trx, run, new Date(run.lease_expires_at!.getTime() + 100));
      return undefined;
    }
    if (run.status === 'queued' && run.concurrency_key !== null) {
      // Serialises claims of one group, so two workers cannot both take the last slot.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [
        JSON.stringify([run.tenant_id, run.workflow_id, run.concurrency_key]),
      ]);
      const [counted] = (await trx('workflow_runs')
        .where({
          tenant_id: run.tenant_id,
          workflow_id: run.workflow_id,
          concurrency_key: run.concurrency_key,
        })
        .where('status', 'running')
        .count({ active: '*' })) as Array<{ active: number }>;
      if (Number(counted?.active ?? 0) >= (run.concurrency_limit ?? 1)) {
        await this.#requeue(trx, run, new Date(this.now().getTime() + CONCURRENCY_RECHECK_MS));
        return undefined;
      }
    }
    const [claimed] = (await trx('workflow_runs')
      .where({ id: run.id })
      .update(this.#claimFields())
      .returning('*')) as RunRow[];
    return claimed;
  }

  async #requeue(db: Knex | Knex.Transaction, run: RunRow, at: Date): Promise<void> {
    await addJob(db, {
      task: RUN_TASK,
      payload: { runId: run.id, tenantId: run.tenant_id },
      jobKey: `run:${run.id}`,
      runAt: at,
    });
  }

  /** The signal the run's in-flight attempts watch; fired by `abort` (a cancel). */
  cancellation(runId: string): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    this.#cancels.set(runId, controller);
    return { signal: controller.signal, release: () => this.#cancels.delete(runId) };
  }

  abort(runId: string): void {
    this.#cancels.get(runId)?.abort(new Error('the run was cancelled'));
  }

  /** Aborts every run in flight here (hard shutdown). */
  abortAll(): void {
    for (const id of this.#cancels.keys()) this.abort(id);
  }

  /** Only retries remain, due later: free the lease and come back at that time. */
  async sleepUntil(run: RunRow, until: Date): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      await this.releaseLease(run, trx);
      await this.#requeue(trx, run, until);
    });
  }

  async releaseLease(run: RunRow, db: Knex | Knex.Transaction = this.deps.db): Promise<void> {
    await db('workflow_runs')
      .where({ id: run.id, tenant_id: run.tenant_id, lease_owner: this.deps.processId })
      .update({ lease_owner: null, lease_expires_at: null, updated_at: db.fn.now() });
  }

  /**
   * Ends the run and, in the same transaction, starts the runs its end triggers and wakes
   * the next run waiting in its concurrency group.
   */
  async finish(
    run: RunRow,
    status: 'succeeded' | 'failed',
    states: Map<string, StepState>,
    failed?: { stepId: string; error: unknown },
  ): Promise<void> {
    const error = failed ? { step: failed.stepId, ...(failed.error as object) } : null;
    const ended = await this.deps.db.transaction(async (trx) => {
      const updated = await trx('workflow_runs')
        .where({ id: run.id, tenant_id: run.tenant_id, status: 'running' })
        .update({
          status,
          error: error === null ? null : JSON.stringify(error),
          finished_at: trx.fn.now(),
          updated_at: trx.fn.now(),
          lease_owner: null,
          lease_expires_at: null,
        });
      if (updated === 0) return false;
      await this.#afterEnd(trx, { ...run, status, error }, states);
      return true;
    });
    if (ended) this.ended(run, status, error);
  }

  /** Event triggers and the concurrency wake-up, for any final status (cancel too). */
  async #afterEnd(trx: Knex.Transaction, run: RunRow, states: Map<string, StepState>): Promise<void> {
    if (run.concurrency_key !== null) {
      const next = await trx<RunRow>('workflow_runs')
        .where({
          tenant_id: run.tenant_id,
          workflow_id: run.workflow_id,
          concurrency_key: run.concurrency_key,
          status: 'queued',
        })
        .orderBy('created_at')
        .first('id', 'tenant_id');
      if (next)
        await addJob(trx, {
          task: RUN_TASK,
          payload: { runId: next.id, tenantId: next.tenant_id },
          jobKey: `run:${next.id}`,
        });
    }
    await triggerEvents(trx, this.deps, this.gate, run, states, () => this.dispatcher.poke());
  }

  async afterCancel(trx: Knex.Transaction, run: RunRow): Promise<void> {
    await this.#afterEnd(trx, run, new Map());
  }

  /**
   * One log line per step attempt that ended: `step:succeeded` (debug), `step:retrying` or
   * `step:failed` (warn), naming tenant, run, step, connector, attempt x/y and duration.
   */
  logStep(
    run: RunRow,
    step: Step,
    attempt: string,
    durationMs: number,
    failure?: FailureRecord,
    retryAt?: Date,
  ): void {
    const fields = {
      tenant: run.tenant_id,
      run: run.id,
      step: step.id,
      connector: step.uses.split('.')[0],
      attempt,
      durationMs,
    };
    if (!failure) this.deps.log.debug(fields, 'step:succeeded');
    else
      this.deps.log.warn(
        { ...fields, code: failure.code, retryAt },
        retryAt ? `step:retrying ${failure.message}` : `step:failed ${failure.message}`,
      );
  }
}

/** Starts the workflows whose `event` trigger watches this run's workflow and status. */
async function triggerEvents(
  trx: Knex.Transaction,
  deps: RuntimeDeps,
  gate: DefaultGate,
  run: RunRow,
  states: Map<string, StepState>,
  dispatch: () => void,
): Promise<void> {
  // The trigger fields are a contract with the validator (TRIGGER_FIELDS in engine/expr/path.ts).
  const output = Object.fromEntries([...states].map(([id, s]) => [id, s.output ?? null]));
  const event = {
    type: 'event',
    at: new Date().toISOString(),
    workflow: run.workflow_id,
    runId: run.id,
    status: run.status,
    output,
  };
  const watchers = deps.catalogue.workflows().filter((e) => {
    const trigger = e.manifest.trigger;
    if (trigger.type !== 'event' || trigger.workflow !== run.workflow_id) return false;
    if (!(trigger.status ?? ['succeeded']).includes(run.status as 'succeeded')) return false;
    return trigger.if === undefined || isTruthy(evaluate(trigger.if, { trigger: event }));
  });
  if (watchers.length === 0) return;
  const rows: Array<{ workflow_id: string; enabled: boolean }> = await trx('tenant_workflows')
    .where({ tenant_id: run.tenant_id })
    .whereIn(
      'workflow_id',
      watchers.map((w) => w.manifest.id),
    )
    .select('workflow_id', 'enabled');
  const enabled = new Set(rows.filter((r) => r.enabled).map((r) => r.workflow_id));
  // Default-on watchers run for a tenant without a row, when it has what they need.
  const chose = new Set(rows.map((r) => r.workflow_id));
  const implicit = watchers.filter((w) => isDefaultOn(w.manifest) && !chose.has(w.manifest.id));
  if (implicit.length > 0) {
    const held = (await loadHoldings(trx, [run.tenant_id])).get(run.tenant_id)!;
    const skips: Skip[] = [];
    for (const entry of implicit) {
      const reason = gate.missing(entry, held);
      if (reason === undefined) enabled.add(entry.manifest.id);
      else skips.push({ tenantId: run.tenant_id, workflowId: entry.manifest.id, reason, trigger: 'event' });
    }
    await recordSkips(trx, skips);
  }
  for (const entry of watchers) {
    if (!enabled.has(entry.manifest.id)) continue;
    await createRun(trx, {
      tenantId: run.tenant_id,
      entry,
      input: {},
      trigger: event,
      idempotencyKey: `event:${run.id}:${run.run_attempt}`,
      parentRunId: run.id,
      onCommitted: dispatch,
    });
  }
}
