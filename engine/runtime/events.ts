/**
 * Event triggers: the workflows that start when a run of the workflow they watch ends. A
 * default-on watcher (`enabled: default`) also starts for a tenant that chose nothing, when the
 * tenant has what it needs; otherwise the skip is recorded.
 */
import type { Knex } from 'knex';
import type { RunRow } from '../db/runs.ts';
import { workflowChoices } from '../db/tenant-workflows.ts';
import { loadHoldings, recordSkips, type Skip } from '../db/workflow-skips.ts';
import { evaluate, isTruthy } from '../expr/index.ts';
import type { Catalogue, CatalogueEntry } from '../manifest/catalogue.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import { type DefaultGate, isDefaultOn } from './defaults.ts';
import type { StepState } from './plan.ts';
import { createRun } from './trigger.ts';

export class EventTriggers {
  /** The watchers of each watched workflow, for one catalogue version (it can be reloaded). */
  #index: { version: string; watchers: Map<string, Array<CatalogueEntry<Workflow>>> } | undefined;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly gate: DefaultGate,
  ) {}

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
    const watchers = (this.#watchers.get(run.workflow_id) ?? []).filter((entry) => {
      const trigger = entry.manifest.trigger as { status?: string[]; if?: unknown };
      if (!(trigger.status ?? ['succeeded']).includes(run.status)) return false;
      return trigger.if === undefined || isTruthy(evaluate(trigger.if, { trigger: event }, event.at));
    });
    if (watchers.length === 0) return;
    const rows = await workflowChoices(
      trx,
      run.tenant_id,
      watchers.map((w) => w.manifest.id),
    );
    const enabled = new Set(rows.filter((r) => r.enabled).map((r) => r.workflow_id));
    // Default-on watchers run for a tenant without a row, when it has what they need.
    const chose = new Set(rows.map((r) => r.workflow_id));
    const implicit = watchers.filter((w) => isDefaultOn(w.manifest) && !chose.has(w.manifest.id));
    if (implicit.length > 0) {
      const held = (await loadHoldings(trx, [run.tenant_id])).get(run.tenant_id)!;
      const skips: Skip[] = [];
      for (const entry of implicit) {
        const reason = this.gate.missing(entry, held);
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
}
