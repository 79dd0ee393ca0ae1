/**
 * The local driver: objects are files under one directory (ATLAS_HOME/files by default). A
 * write goes to a temporary name and is renamed into place, so a reader never sees half a
 * file and a crash leaves only a `.part` file the sweep removes.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ByteRange,
  ObjectMissingError,
  type PutSource,
  type Storage,
  storageFailure,
} from './storage.ts';

export function makeLocalStorage(dir: string): Storage {
  const root = path.resolve(dir);
  const pathOf = (key: string) => {
    const full = path.resolve(root, key);
    if (!full.startsWith(`${root}${path.sep}`)) throw new Error(`key escapes the storage directory: ${key}`);
    return full;
  };
  return {
    kind: 'local',
    async put(key, source: PutSource) {
      if (source.stagedPath) {
        // The body is not read: the staged file moves instead. Its stream may still be
        // opening, and that open fails once the file has moved: expected, so handled at once
        // (before any await, or the failed open is an uncaught error).
        source.body.on('error', () => {});
        source.body.destroy();
      }
      const target = pathOf(key);
      const temp = `${target}.${randomBytes(6).toString('hex')}.part`;
      try {
        await fs.mkdir(path.dirname(target), { recursive: true });
        if (source.stagedPath) {
          await fs.rename(source.stagedPath, temp).catch(async (err: NodeJS.ErrnoException) => {
            // Another file system: copy instead of moving.
            if (err.code !== 'EXDEV') throw err;
            await fs.copyFile(source.stagedPath!, temp);
          });
        } else {
          await pipeline(source.body, createWriteStream(temp, { flags: 'wx' }));
        }
        await fs.rename(temp, target);
      } catch (err) {
        await fs.rm(temp, { force: true }).catch(() => undefined);
        throw unavailable(err);
      }
    },
    async get(key, range?: ByteRange): Promise<Readable> {
      const file = pathOf(key);
      const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new ObjectMissingError(`no object ${key}`);
        throw unavailable(err);
      });
      return createReadStream('', { fd: handle, ...(range ? { start: range.start, end: range.end } : {}) });
    },
    async head(key) {
      const stat = await fs.stat(pathOf(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw unavailable(err);
      });
      return stat ? { size: stat.size } : undefined;
    },
    async delete(key) {
      await fs.rm(pathOf(key), { force: true }).catch((err: unknown) => {
        throw unavailable(err);
      });
    },
    async *list(prefix) {
      const dir = pathOf(prefix.replace(/\/+$/, ''));
      let entries: string[];
      try {
        entries = await fs.readdir(dir, { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw unavailable(err);
      }
      for (const entry of entries) yield `${prefix.replace(/\/+$/, '')}/${entry.split(path.sep).join('/')}`;
    },
  };
}

function unavailable(err: unknown): Error {
  return storageFailure('local', (err as NodeJS.ErrnoException).code ?? 'unknown', err);
}
