/**
 * The run outbox's dispatcher after stop: a caller that commits a run while the process shuts
 * down pokes it once more. That poke must not reach for a pool that is closing; the committed
 * run waits, durable, for the sweep of the next process.
 */
import { describe, expect, it } from 'vitest';
import { makeDb } from '../../engine/db/knex.ts';
import type { Logger } from '../../engine/log.ts';
import { Dispatcher } from '../../engine/runtime/dispatch.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();

describe('the dispatcher', () => {
  it('ignores a poke after stop, instead of querying a closed pool', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    const db = makeDb(database.url, { poolSize: 2 });
    const dispatcher = new Dispatcher(db, log);
    await dispatcher.stop();
    await db.destroy();
    dispatcher.poke();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(warnings).toEqual([]);
  });
});
