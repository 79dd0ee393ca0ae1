/** Event triggers: the workflows that start when a run of the workflow they watch ends. */
import type { Knex } from 'knex';
import type { RunRow } from '../db/runs.ts';
import { enabledWorkflows } from '../db/tenant-workflows.ts';
import { evaluate, isTruthy } from '../expr/index.ts';
import type { Catalogue, CatalogueEntry } from '../manifest/catalogue.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import type { StepState } from './plan.ts';
import { createRun } from './trigger.ts';

export class EventTriggers {
  /** The watchers of each watched workflow, for one catalogue version (it can be reloaded). */
  #index: { version: string; watchers: Map<string, Array<CatalogueEntry<Workflow>>> } | undefined;

  constructor(private readonly catalogue: Catalogue) {}

  get #watchers(): Map<string, Array<CatalogueEntry<Workflow>>> {
    const { version } = this.catalogue;
    if (this.#index?.version !== version) {
      const watchers = new Map<string, Array<CatalogueEntry<Workflow>>>();
      for (const entry of this.catalogue.workflows()) {
        const trigger = entry.manifest.trigger;
        if (trigger.type !== 'event') continue;
        watchers.set(trigger.workflow, [...(watchers.get(trigger.workflow) ?? []), entry]);
      }
      this.#index = { version, watchers };
    }
    return this.#index.watchers;
  }

  /** Whether some `event` trigger watches this workflow (its runs then end in a transaction). */
  watches(workflowId: string): boolean {
    return this.#watchers.has(workflowId);
  }

  /** Starts, in the ending run's transaction, the watchers its status and `if` let through. */
  async fire(
    trx: Knex.Transaction,
    run: RunRow,
    states: Map<string, StepState>,
    dispatch: () => void,
  ): Promise<void> {
    const watchers = this.#watchers.get(run.workflow_id) ?? [];
    if (watchers.length === 0) return;
    const enabled = await enabledWorkflows(
      trx,
      run.tenant_id,
      watchers.map((w) => w.manifest.id),
    );
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
    for (const entry of watchers) {
      const trigger = entry.manifest.trigger as { status?: string[]; if?: unknown };
      if (!enabled.has(entry.manifest.id)) continue;
      if (!(trigger.status ?? ['succeeded']).includes(run.status)) continue;
      if (trigger.if !== undefined && !isTruthy(evaluate(trigger.if, { trigger: event }, event.at))) continue;
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
}
