/**
 * Sub-workflows: a `workflow.run` step starts a child run of another workflow for the same
 * tenant. The child and the caller's attempt (`waiting` for the child, or done at once with
 * `{ runId }` under `wait: false`) are written in one transaction, so a child never ends
 * before its caller waits for it. When a child its caller waits for ends, the caller's
 * attempt ends with the child's output (or its error) and the caller's job is due now;
 * cancelling a run cancels its children.
 */
import type { Knex } from 'knex';
import { notifyWake } from '../db/cancel-channel.ts';
import { enqueueRun } from '../db/queue.ts';
import { activeChildren, endCallWait, insertCall, insertCallAttempt } from '../db/run-calls.ts';
import { lockRun, type RunRow } from '../db/runs.ts';
import type { ClaimedRun } from './claims.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';
import { type FailureRecord, failure } from './retry.ts';
import { createRun } from './trigger.ts';

/** The action that starts a sub-workflow. */
export const CALL_ACTION = 'workflow.run';

/** How deep calls may nest: a top-level run is depth 0, its children 1, and so on. */
export const MAX_CALL_DEPTH = 10;

/** The trigger of a child run: who called it. */
export interface CallTrigger {
  type: 'call';
  runId: string;
  workflowId: string;
  stepId: string;
  depth: number;
  wait: boolean;
}

export interface CallInput {
  workflow: string;
  input?: unknown;
  wait?: boolean;
}

export function callerOf(run: Pick<RunRow, 'trigger'>): CallTrigger | undefined {
  const t = run.trigger as Partial<CallTrigger> | null;
  return t?.type === 'call' && typeof t.runId === 'string' ? (t as CallTrigger) : undefined;
}

/** True when a caller waits for this run's end. */
export function hasWaitingCaller(run: Pick<RunRow, 'trigger'>): boolean {
  return callerOf(run)?.wait === true;
}

/**
 * Starts the child and records the caller's attempt in one transaction; returns the attempt's
 * ledger id and what it outputs now (`{ runId }`). Throws a RuntimeError when the child cannot
 * start (unknown workflow, invalid input, too deep).
 */
export async function startCall(
  core: Core,
  run: ClaimedRun,
  step: { id: string; attempt: number; maxAttempts: number },
  input: CallInput,
): Promise<{ ledgerId: number; output: { runId: string }; waits: boolean }> {
  const entry = core.deps.catalogue.workflow(input.workflow);
  if (!entry) throw new RuntimeError('unknown_workflow', `There is no workflow ${input.workflow}.`);
  const depth = (callerOf(run)?.depth ?? 0) + 1;
  if (depth > MAX_CALL_DEPTH) {
    throw new RuntimeError(
      'invalid_input',
      `${run.workflow_id} calls ${input.workflow} ${depth} levels deep; sub-workflows nest at most ${MAX_CALL_DEPTH} levels`,
    );
  }
  const childInput = input.input ?? {};
  core.inputs.check(entry, childInput);
  const waits = input.wait !== false;
  const trigger: CallTrigger = {
    type: 'call',
    runId: run.id,
    workflowId: run.workflow_id,
    stepId: step.id,
    depth,
    wait: waits,
  };
  return core.deps.db.transaction(async (trx) => {
    const { run: child } = await createRun(trx, {
      tenantId: run.tenant_id,
      entry,
      input: childInput,
      trigger: trigger as unknown as Record<string, unknown>,
      // A caller that crashed after this commit finds its attempt; one that crashed before it
      // starts the same child again, at most once per attempt.
      idempotencyKey: `call:${run.id}:${run.run_attempt}:${step.id}:${step.attempt}`,
      onCommitted: () => core.dispatcher.poke(),
    });
    await insertCall(trx, {
      runId: child.id,
      tenantId: run.tenant_id,
      callerRunId: run.id,
      callerStepId: step.id,
      depth,
      waits,
    });
    const output = { runId: child.id };
    const ledgerId = await insertCallAttempt(trx, {
      tenantId: run.tenant_id,
      runId: run.id,
      runAttempt: run.run_attempt,
      worker: core.deps.processId,
      stepId: step.id,
      attempt: step.attempt,
      maxAttempts: step.maxAttempts,
      input: { workflow: input.workflow, input: childInput, wait: waits },
      output,
      waits,
    });
    return { ledgerId, output, waits };
  });
}

/**
 * A child ended (any final status): the caller's waiting attempt takes its output, or fails
 * with the child's error kind, and the caller is due now. In the child's ending transaction.
 */
export async function returnToCaller(
  trx: Knex.Transaction,
  run: Pick<RunRow, 'id' | 'tenant_id' | 'workflow_id' | 'trigger' | 'status' | 'error' | 'output'>,
): Promise<void> {
  const caller = callerOf(run);
  if (!caller?.wait) return;
  // The caller's lock orders this against its park: a return is never lost.
  const parent = await lockRun(trx, run.tenant_id, caller.runId);
  if (!parent) return;
  const call = {
    tenantId: run.tenant_id,
    callerRunId: caller.runId,
    callerStepId: caller.stepId,
    childRunId: run.id,
  };
  const ended =
    run.status === 'succeeded'
      ? await endCallWait(trx, call, { status: 'succeeded', output: run.output ?? null })
      : await endCallWait(trx, call, { status: 'failed', error: childFailure(run) });
  if (ended && (parent.status === 'running' || parent.status === 'waiting')) await enqueueRun(trx, parent);
  if (ended && parent.status === 'running') await notifyWake(trx, parent.id);
}

function childFailure(run: Pick<RunRow, 'id' | 'workflow_id' | 'status' | 'error'>): FailureRecord {
  const error = (run.error ?? {}) as { kind?: string; code?: string; message?: string; step?: string };
  const cancelled = run.status === 'cancelled';
  const kinds = ['retryable', 'fatal', 'auth', 'timeout'] as const;
  const kind = kinds.find((k) => k === error.kind) ?? 'fatal';
  return failure({
    kind: cancelled ? 'fatal' : kind,
    attempt: 1,
    code: cancelled ? 'cancelled' : (error.code ?? 'child_failed'),
    message: `${run.workflow_id} run ${run.id} ${cancelled ? 'was cancelled' : 'failed'}${
      error.step ? ` at step ${error.step}` : ''
    }: ${error.message ?? 'no reason given'}`,
    childRunId: run.id,
  });
}

/** Cancels the children still running of a run that was cancelled (and theirs, in turn). */
export async function cancelChildren(
  core: Core,
  tenantId: string,
  runId: string,
  cancel: (core: Core, tenantId: string, runId: string) => Promise<unknown>,
): Promise<void> {
  for (const child of await activeChildren(core.deps.db, tenantId, runId)) {
    await cancel(core, tenantId, child).catch((err: unknown) => {
      // Ended meanwhile: nothing to cancel.
      if (!(err instanceof RuntimeError && err.code === 'conflict')) throw err;
    });
  }
}
