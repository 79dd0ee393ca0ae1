import type { Knex } from 'knex';
import { migrationStatus } from '../db/migrate.ts';

/**
 * Why this process should not receive traffic yet, or undefined when it is ready: the
 * database answers and its migrations are current.
 */
export async function notReadyReason(db: Knex): Promise<string | undefined> {
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
