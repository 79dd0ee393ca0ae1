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

describe('GroupCommit with several batches in flight', () => {
  /** A writer that holds each batch until released, recording how many overlap. */
  function gated() {
    const batches: number[][] = [];
    const releases: Array<() => void> = [];
    let writing = 0;
    let most = 0;
    const write = async (items: number[]) => {
      batches.push(items);
      writing += 1;
      most = Math.max(most, writing);
      await new Promise<void>((resolve) => releases.push(resolve));
      writing -= 1;
      return items.map((n) => n * 10);
    };
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    return { batches, releases, write, tick, most: () => most };
  }

  it('starts a batch without waiting for the one ahead, up to the limit, and queues the rest together', async () => {
    const g = gated();
    const group = new GroupCommit<number, number>(g.write, { inFlight: 2 });
    const outcomes = [group.submit(1)];
    await g.tick();
    outcomes.push(group.submit(2), group.submit(3));
    await g.tick();
    // Both slots taken: these wait, together, for the first slot to free.
    outcomes.push(group.submit(4), group.submit(5));
    await g.tick();
    expect(g.batches).toEqual([[1], [2, 3]]);
    g.releases[1]!();
    await g.tick();
    expect(g.batches).toEqual([[1], [2, 3], [4, 5]]);
    for (const release of g.releases) release();
    await g.tick();
    for (const release of g.releases) release();
    expect(await Promise.all(outcomes)).toEqual([10, 20, 30, 40, 50]);
    expect(g.most()).toBe(2);
    await group.settled();
  });

  it('keeps one batch in flight by default', async () => {
    const g = gated();
    const group = new GroupCommit<number, number>(g.write);
    const outcomes = [group.submit(1)];
    await g.tick();
    outcomes.push(group.submit(2));
    await g.tick();
    expect(g.batches).toEqual([[1]]);
    g.releases[0]!();
    await g.tick();
    g.releases[1]!();
    expect(await Promise.all(outcomes)).toEqual([10, 20]);
    expect(g.most()).toBe(1);
  });

  it('settles only once every batch in flight is written', async () => {
    const g = gated();
    const group = new GroupCommit<number, number>(g.write, { inFlight: 3 });
    const outcomes = [group.submit(1)];
    await g.tick();
    outcomes.push(group.submit(2));
    await g.tick();
    let settled = false;
    const waiting = group.settled().then(() => {
      settled = true;
    });
    g.releases[1]!();
    await g.tick();
    expect(settled).toBe(false);
    g.releases[0]!();
    await waiting;
    expect(await Promise.all(outcomes)).toEqual([10, 20]);
  });
});
