/**
 * Schedules: every workflow with a `schedule` trigger becomes a graphile-worker cron item
 * (UTC, minute granularity). When it fires, one run starts per tenant that has the
 * workflow enabled (or, for an `enabled: default` workflow, that did not turn it off and has
 * what it needs); the fire time is the idempotency key, so a double fire starts nothing.
 */
import { type ParsedCronItem, parseCronItems } from 'graphile-worker';
import { tenantsRunning } from '../db/tenant-workflows.ts';
import type { Catalogue } from '../manifest/catalogue.ts';
import type { Core } from './core.ts';
import { defaultTenants, isDefaultOn, recordSkips } from './defaults.ts';
import { createRun } from './trigger.ts';

export const SCHEDULE_TASK = 'atlas.schedule';

export function cronItems(catalogue: Catalogue, backfillPeriod: number): ParsedCronItem[] {
  return parseCronItems(
    catalogue
      .workflows()
      .filter((e) => e.manifest.trigger.type === 'schedule')
      .map((e) => ({
        task: SCHEDULE_TASK,
        match: (e.manifest.trigger as { cron: string }).cron,
        identifier: `schedule:${e.manifest.id}`,
        payload: { workflowId: e.manifest.id },
        options: { backfillPeriod, maxAttempts: 5 },
      })),
  );
}

interface SchedulePayload {
  workflowId: string;
  _cron?: { ts: string; backfilled?: boolean };
}

export async function fireSchedule(core: Core, payload: SchedulePayload): Promise<number> {
  const entry = core.deps.catalogue.workflow(payload.workflowId);
  if (entry?.manifest.trigger.type !== 'schedule') return 0;
  const firedAt = payload._cron?.ts ?? new Date().toISOString();
  const trigger = {
    type: 'schedule',
    at: new Date().toISOString(),
    scheduledAt: firedAt,
  };
  return core.deps.db.transaction(async (trx) => {
    const tenants = await tenantsRunning(trx, entry.manifest.id);
    let skipped = 0;
    if (isDefaultOn(entry.manifest)) {
      // Every active tenant that did not turn it off, when it has what the workflow needs.
      const implicit = await defaultTenants(trx, core.gate, entry);
      tenants.push(...implicit.run);
      skipped = implicit.skipped.length;
      await recordSkips(
        trx,
        implicit.skipped.map((s) => ({ ...s, workflowId: entry.manifest.id, trigger: 'schedule' })),
      );
    }
    let started = 0;
    for (const tenantId of tenants) {
      const { created } = await createRun(trx, {
        tenantId,
        entry,
        input: entry.manifest.trigger.type === 'schedule' ? (entry.manifest.trigger.input ?? {}) : {},
        trigger,
        idempotencyKey: `schedule:${firedAt}`,
        onCommitted: () => core.dispatcher.poke(),
      });
      if (created) started++;
    }
    core.deps.log.info({ workflow: entry.manifest.id, firedAt, runs: started, skipped }, 'schedule:fired');
    return started;
  });
}
