/**
 * Prometheus metrics of the runtime, in prom-client's default registry (served at
 * `/metrics`). Queue depth and the oldest queued job's age are read at scrape time.
 */
import type { Knex } from 'knex';
import client from 'prom-client';
import { JOB_TYPES } from '../connector-sdk/index.ts';
import { queueStats, queueStatsByTask } from '../db/queue.ts';
import { counter, histogram } from '../metrics.ts';
import { roleOfTask } from '../queue/roles.ts';

export interface RuntimeMetrics {
  run(workflowId: string, status: string, startedAt: Date): void;
  step(uses: string, status: string, durationMs: number): void;
  retry(uses: string): void;
  lost(workflowId: string): void;
  fenced(workflowId: string): void;
}

export function makeMetrics(db: Knex): RuntimeMetrics {
  const runs = counter('atlas_runs_total', 'Finished workflow runs', ['workflow', 'status']);
  const runSeconds = histogram(
    'atlas_run_duration_seconds',
    'Time from a run starting to its end',
    ['workflow', 'status'],
    [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
  );
  const steps = histogram(
    'atlas_step_duration_seconds',
    'Duration of step attempts',
    ['connector', 'action', 'status'],
    [0.001, 0.005, 0.02, 0.1, 0.5, 1, 5, 30, 120],
  );
  const retries = counter('atlas_step_retries_total', 'Step attempts scheduled again', [
    'connector',
    'action',
  ]);
  const lost = counter('atlas_step_attempts_lost_total', 'Attempts left running by a worker that stopped', [
    'workflow',
  ]);
  const fenced = counter(
    'atlas_checkpoints_fenced_total',
    'Checkpoints refused because another worker claimed the run since (lease epoch)',
    ['workflow'],
  );
  registerQueueGauges(db);
  const split = (uses: string) => {
    const dot = uses.indexOf('.');
    return { connector: uses.slice(0, dot), action: uses.slice(dot + 1) };
  };
  return {
    run(workflow, status, startedAt) {
      runs.inc({ workflow, status });
      runSeconds.observe({ workflow, status }, (Date.now() - startedAt.getTime()) / 1000);
    },
    step(uses, status, durationMs) {
      steps.observe({ ...split(uses), status }, durationMs / 1000);
    },
    retry(uses) {
      retries.inc(split(uses));
    },
    lost(workflow) {
      lost.inc({ workflow });
    },
    fenced(workflow) {
      fenced.inc({ workflow });
    },
  };
}

let queueDb: Knex | undefined;

function registerQueueGauges(db: Knex): void {
  queueDb = db;
  registerRoleGauges();
  if (client.register.getSingleMetric('atlas_queue_depth')) return;
  new client.Gauge({
    name: 'atlas_queue_depth',
    help: 'Queue jobs waiting to run (due now)',
    async collect() {
      const stats = await queueStatsNow();
      if (stats) this.set(stats.depth);
    },
  });
  new client.Gauge({
    name: 'atlas_queue_oldest_job_age_seconds',
    help: 'Age of the oldest due queue job that no worker has taken',
    async collect() {
      const stats = await queueStatsNow();
      if (stats) this.set(stats.oldest);
    },
  });
}

/**
 * The same per worker role (`runs`, `scheduler`, `jobs:<TYPE>`): work of a role that no running
 * worker serves (`atlas worker --only`) waits, and shows here. Roles with nothing due show 0.
 */
function registerRoleGauges(): void {
  if (client.register.getSingleMetric('atlas_queue_role_depth')) return;
  const roles = ['runs', 'scheduler', ...JOB_TYPES.map((t) => `jobs:${t}`)];
  const byRole = async () => {
    if (!queueDb) return undefined;
    const stats = new Map(roles.map((role) => [role, { depth: 0, oldest: 0 }]));
    for (const row of await queueStatsByTask(queueDb)) {
      const role = roleOfTask(row.task);
      const seen = stats.get(role) ?? { depth: 0, oldest: 0 };
      stats.set(role, { depth: seen.depth + row.depth, oldest: Math.max(seen.oldest, row.oldest) });
    }
    return stats;
  };
  new client.Gauge({
    name: 'atlas_queue_role_depth',
    help: 'Queue jobs due now that no worker has taken, per worker role',
    labelNames: ['role'],
    async collect() {
      const stats = await byRole();
      for (const [role, s] of stats ?? []) this.set({ role }, s.depth);
    },
  });
  new client.Gauge({
    name: 'atlas_queue_role_oldest_job_age_seconds',
    help: 'Age of the oldest due queue job that no worker has taken, per worker role',
    labelNames: ['role'],
    async collect() {
      const stats = await byRole();
      for (const [role, s] of stats ?? []) this.set({ role }, s.oldest);
    },
  });
}

async function queueStatsNow(): Promise<{ depth: number; oldest: number } | undefined> {
  return queueDb && queueStats(queueDb);
}
