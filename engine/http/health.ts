import Router from '@koa/router';
import type { Knex } from 'knex';
import { migrationStatus } from '../db/migrate.ts';
import { problem } from './problem.ts';

/**
 * `/healthz`: the process is up. `/readyz`: the database answers and its migrations are
 * current, so traffic can be routed here.
 */
export function healthRoutes(db: Knex): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const reason = await notReadyReason(db);
    if (reason) throw problem.unavailable(reason);
    ctx.body = { status: 'ready' };
  });
  return router;
}

async function notReadyReason(db: Knex): Promise<string | undefined> {
  try {
    const status = await withTimeout(migrationStatus(db), 2000);
    if (status.pending.length > 0) return `Database migrations are pending: ${status.pending.join(', ')}.`;
    return undefined;
  } catch (err) {
    return `The database does not answer: ${(err as Error).message}`;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
