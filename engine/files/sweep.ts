// The sweep: removes what a crashed upload left behind (staging files, pending rows, orphan objects).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { deleteStalePending, liveFileState } from '../db/files.ts';
import { fileIdOfKey, type Storage } from './storage.ts';

/** How old a staging file or a pending row must be for the sweep to remove it. */
export const STALE_MS = 3_600_000;

export async function sweepFiles(
  { db, storage, stagingDir }: { db: Knex; storage: Storage; stagingDir: string },
  now: number,
): Promise<{ objects: number; rows: number; staged: number }> {
  let staged = 0;
  for (const entry of await fs.readdir(stagingDir).catch(() => [] as string[])) {
    const stamp = Number(entry.split('-')[0]);
    if (Number.isFinite(stamp) && now - stamp > STALE_MS) {
      await fs.rm(path.join(stagingDir, entry), { force: true });
      staged++;
    }
  }
  const cutoff = new Date(now - STALE_MS);
  const rows = await deleteStalePending(db, cutoff);
  let objects = 0;
  for await (const key of storage.list('tenants/')) {
    const parsed = fileIdOfKey(key);
    if (!parsed) continue;
    const row = await liveFileState(db, parsed.tenantId, parsed.fileId);
    const live = row && (row.status === 'ready' || new Date(row.created_at).getTime() > cutoff.getTime());
    if (!live) {
      await storage.delete(key);
      objects++;
    }
  }
  return { objects, rows, staged };
}
