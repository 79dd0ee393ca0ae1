import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import type { Step } from '../manifest/types.gen.ts';
import { DEFAULT_MAX_ITEMS, itemId, Loop, type LoopStatus } from './loop.ts';
import { classify, failure, stepRetry } from './retry.ts';
import { AttemptSteps } from './run-attempts.ts';
import { itemLocals, type RenderedInput, renderInput, renderList } from './scope.ts';

export abstract class LoopSteps extends AttemptSteps {
  protected loopStatus(stepId: string): LoopStatus {
    const loop = this.loops.get(stepId);
    // Not in memory yet (resumed from the ledger): preparing it rebuilds it.
    return loop ? loop.status(this.core.now()) : 'ready';
  }

  /** Starts a `forEach` step: its list, checked and stored on its own row, then its first items. */
  protected async startLoop(step: Step, base: Omit<NewAttempt, 'status'>): Promise<boolean> {
    const list = await renderList(step, this.scope, this.states);
    if (!Array.isArray(list)) {
      const kind = list === null ? 'null' : typeof list === 'object' ? 'an object' : `a ${typeof list}`;
      throw new Error(`forEach must be a list, but it is ${kind}`);
    }
    const max = step.maxItems ?? DEFAULT_MAX_ITEMS;
    if (list.length > max) {
      throw new Error(
        `forEach has ${list.length} items, more than maxItems (${max}); raise maxItems (at most 10000) or split the list`,
      );
    }
    // A run retried after a failure keeps the items that already succeeded.
    const loop = new Loop(step, list, this.resumed.get(step.id)?.items);
    this.resumed.delete(step.id);
    this.loops.set(step.id, loop);
    this.states.set(step.id, { stepId: step.id, status: 'running', attempt: base.attempt });
    this.started.push({ ...base, status: 'running', input: { items: list } });
    await this.fillLoop(step);
    return true;
  }

  /** Rebuilds a loop whose items were under way when its run was last checkpointed. */
  protected resumeLoop(step: Step): Loop {
    const resumed = this.resumed.get(step.id);
    const items = (resumed?.row?.input as { items?: unknown[] } | null)?.items ?? [];
    const loop = new Loop(step, items, resumed?.items);
    if (resumed?.row) this.ledgerIds.set(step.id, resumed.row.id);
    this.resumed.delete(step.id);
    this.loops.set(step.id, loop);
    return loop;
  }

  /** Queues the items due now, up to the step's concurrency; ends the step when all are done. */
  protected async fillLoop(step: Step): Promise<boolean> {
    const loop = this.loops.get(step.id) ?? this.resumeLoop(step);
    let changed = false;
    const maxAttempts = stepRetry(step, this.workflow.defaults).maxAttempts;
    const pure = this.isPure(step);
    for (const { index, attempt } of loop.due(this.core.now())) {
      const id = itemId(step.id, index);
      const base = { stepId: id, uses: step.uses, attempt, maxAttempts };
      let rendered: RenderedInput;
      try {
        const locals = itemLocals(step, loop.items[index], index);
        rendered = await renderInput(this.core.deps.secrets, step, this.scope, this.states, locals);
      } catch (err) {
        const invalid = failure({ ...classify(err, attempt), kind: 'fatal', code: 'invalid_input' });
        loop.record(index, { stepId: id, status: 'failed', attempt, error: invalid });
        this.started.push({ ...base, status: 'failed', error: invalid });
        changed = true;
        continue;
      }
      this.items.set(id, { loop, index });
      loop.start(index, { stepId: id, status: 'running', attempt });
      if (pure) {
        // Written once with its outcome, in the run's next durable write.
        await this.runPure(step, base, rendered);
        changed = true;
        continue;
      }
      this.pendingInputs.set(id, rendered);
      this.started.push({ ...base, status: 'running', input: rendered.stored });
    }
    if (!loop.done) return changed;
    this.closeLoop(step, loop);
    return true;
  }

  /** Ends a `forEach` step's own row: the list of item outputs, or the first item's failure. */
  protected closeLoop(step: Step, loop: Loop): void {
    loop.closed = true;
    this.loops.delete(step.id);
    const attempt = this.states.get(step.id)?.attempt ?? 1;
    const durationMs = Math.round(performance.now() - loop.startedAt);
    const ending: Pick<FinishedAttempt, 'status' | 'output' | 'error'> = loop.failed
      ? {
          status: 'failed',
          error: {
            ...(loop.failed.error as object),
            item: loop.failed.index,
            message: `item ${loop.failed.index} failed: ${(loop.failed.error as { message?: string })?.message ?? 'unknown error'}`,
          },
        }
      : { status: 'succeeded', output: loop.output() };
    this.states.set(step.id, { stepId: step.id, attempt, ...ending });
    this.endRow(step.id, durationMs, ending);
    this.core.metrics.step(step.uses, ending.status, durationMs);
  }
}
