/**
 * The runtime's parts for one process, built once and handed to every queue task: the
 * manifest cache, claims and leases, cancellation, finishing, the checkpoint writer and the
 * run outbox. Each part lives in its own module; this one only assembles them.
 */
import type { GroupCommit } from '../db/group-commit.ts';
import { LedgerWriter } from '../db/ledger-writer.ts';
import type { RunRow } from '../db/runs.ts';
import { Cancellations } from './cancellation.ts';
import { Claims } from './claims.ts';
import { DefaultGate } from './defaults.ts';
import type { RuntimeDeps } from './deps.ts';
import { DEFAULT_RUNS_IN_FLIGHT, Dispatcher } from './dispatch.ts';
import type { LeaseLost } from './errors.ts';
import { Finishing } from './finish.ts';
import { WorkflowVersions } from './manifests.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { InputSchemas, makeTriggerBatcher, type NewRun, type Outcome } from './trigger.ts';

export class Core {
  /** The workflow version each run pinned. */
  readonly versions: WorkflowVersions;
  readonly claims: Claims;
  readonly cancels = new Cancellations();
  readonly finishing: Finishing;
  /** Group commit of step checkpoints. */
  readonly writer: LedgerWriter;
  /** Hands runs committed in callers' transactions to the queue (the run outbox). */
  readonly dispatcher: Dispatcher;
  /** Group commit of runs triggered outside any caller transaction. */
  readonly triggers: GroupCommit<NewRun, Outcome>;
  /** Checks what default-on workflows need from tenants that did not enable them. */
  readonly gate: DefaultGate;
  /** Validators of workflows' input schemas (API triggers and sub-workflow calls). */
  readonly inputs = new InputSchemas();

  constructor(
    readonly deps: RuntimeDeps,
    readonly metrics: RuntimeMetrics,
  ) {
    this.gate = new DefaultGate(deps);
    this.versions = new WorkflowVersions(deps);
    this.claims = new Claims(deps, this.now);
    this.writer = new LedgerWriter(deps.db);
    this.dispatcher = new Dispatcher(deps.db, deps.log, deps.tenantRunsInFlight ?? DEFAULT_RUNS_IN_FLIGHT);
    this.finishing = new Finishing(deps, metrics, this.dispatcher, this.gate);
    this.triggers = makeTriggerBatcher(deps.db, () => this.dispatcher.poke());
  }

  /**
   * A checkpoint of this run was refused by fencing (`LeaseLost`): another worker holds it
   * now. The attempts still in flight here are aborted and nothing more is written.
   */
  fenced(run: RunRow, err: LeaseLost): void {
    this.cancels.abort(run.id);
    this.metrics.fenced(run.workflow_id);
    this.deps.log.warn(
      { tenant: run.tenant_id, run: run.id, epoch: run.lease_epoch, err: err.message },
      'run:fenced another worker claimed this run since; its write was refused',
    );
  }

  now = (): Date => this.deps.now?.() ?? new Date();
  random = (): number => this.deps.random?.() ?? Math.random();
}
