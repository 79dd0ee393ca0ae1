/**
 * Group commit's `settled()`: a process that is shutting down waits for every submitted item
 * to be written before its pool closes (audit entries written after an answer, say).
 */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../engine/db/group-commit.ts';

describe('GroupCommit.settled', () => {
  it('resolves only once every item submitted so far is written, across several batches', async () => {
    const written: number[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      written.push(...items);
      return items;
    });
    const submitted = [1, 2, 3].map((n) => group.submit(n));
    // Arrives while the first batch is being written: it goes in a second batch.
    await new Promise((resolve) => setTimeout(resolve, 5));
    submitted.push(group.submit(4), group.submit(5));
    await group.settled();
    expect(written.sort()).toEqual([1, 2, 3, 4, 5]);
    await Promise.all(submitted);
  });

  it('resolves at once when nothing is queued, and after a failed batch too', async () => {
    const group = new GroupCommit<number, number>(async (items) => {
      if (items.includes(2)) throw new Error('bad item');
      return items;
    });
    await group.settled();
    const outcomes = await Promise.allSettled([group.submit(1), group.submit(2)]);
    await group.settled();
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('writes the items submitted in one turn of the event loop as one batch', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      return items;
    });
    // As the run outbox is poked once per run when a shared transaction commits.
    await Promise.all([group.submit(1), group.submit(2), group.submit(3)]);
    expect(batches).toEqual([[1, 2, 3]]);
  });
});
