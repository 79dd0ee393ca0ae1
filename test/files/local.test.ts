/**
 * The local driver moves a staged file instead of reading its body. The body's stream may
 * still be opening when the file moves; its failed open must not become an uncaught error
 * that crashes the process (it did, now and then, under load).
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLocalStorage } from '../../engine/files/local.ts';
import { ObjectMissingError, StorageUnavailableError } from '../../engine/files/storage.ts';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-local-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the local driver', () => {
  it('moves a staged file whose body stream can no longer open, without an uncaught error', async () => {
    const storage = makeLocalStorage(path.join(dir, 'files'));
    const staged = path.join(dir, 'staged');
    await fs.writeFile(staged, 'hello');
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      // The stream opens a path that is gone by the time it tries: exactly the race.
      const body = createReadStream(path.join(dir, 'already-moved'));
      await storage.put('tenants/acme/f1', { body, size: 5, contentType: 'text/plain', stagedPath: staged });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught.map(String)).toEqual([]);
    expect(await fs.readFile(path.join(dir, 'files', 'tenants/acme/f1'), 'utf8')).toBe('hello');
  });

  it('names a missing object, and a failing file system with its error code', async () => {
    const blocker = path.join(dir, 'not-a-directory');
    await fs.writeFile(blocker, 'x');
    const storage = makeLocalStorage(blocker);
    const body = createReadStream(blocker);
    const put = storage.put('tenants/acme/f2', { body, size: 1, contentType: 'text/plain' });
    await expect(put).rejects.toThrow(StorageUnavailableError);
    await expect(put).rejects.toThrow('local storage failed (ENOTDIR)');
    const missing = makeLocalStorage(path.join(dir, 'empty'));
    await expect(missing.get('tenants/acme/f3')).rejects.toThrow(ObjectMissingError);
    expect(await missing.head('tenants/acme/f3')).toBeUndefined();
  });
});
