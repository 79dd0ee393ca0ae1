/**
 * Files of tenants: uploads streamed to a staging file while their sha256 and size are
 * computed (never held whole in memory), checked against the tenant's quota under a
 * per-tenant lock, stored by the driver, then recorded. The same service backs the API,
 * the `files` connector and the CLI.
 *
 * An upload first reserves its share (a `pending` row, counted against the quota), then
 * writes the object, then marks the row `ready`: concurrent uploads never exceed a quota,
 * and a failure at any point releases what it reserved. The sweep removes what a crash left
 * behind: staging files, `pending` rows, and objects without a live row.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { FilesConfig } from '../config.ts';
import type { Keyring } from '../crypto/index.ts';
import {
  deleteFileRow,
  fileUsage,
  getReadyFile,
  getReadyFileById,
  insertPendingFile,
  listReadyFiles,
  lockTenantFiles,
  markFileReady,
  readFileSettings,
  softDeleteFile,
} from '../db/files.ts';
import { withTenant } from '../db/rls.ts';
import { notifyQuota } from '../notify/record.ts';
import { FileNotFoundError, FileTooLargeError, QuotaExceededError } from './errors.ts';
import { makeLocalStorage } from './local.ts';
import { checkFileName, declaredType, FileInputError, resolveContentType } from './names.ts';
import {
  contentDisposition,
  type FileRecord,
  type Limits,
  type ListQuery,
  MAX_URL_TTL_SECONDS,
  type SignedUrl,
  toRecord,
  type UploadInput,
  type Usage,
  UUID,
  uuidv7,
} from './records.ts';
import { makeS3Storage } from './s3.ts';
import { makeUrlSigner } from './signing.ts';
import { type ByteRange, objectKey, type Storage } from './storage.ts';
import { sweepFiles } from './sweep.ts';

const SNIFF_BYTES = 4100;

export type FileService = ReturnType<typeof makeFileService>;

export interface FileServiceDeps {
  config: FilesConfig;
  db: Knex;
  keyring: Keyring;
  /** Where signed local URLs point: ATLAS_PUBLIC_URL (a function when known only once listening). */
  publicUrl: string | (() => string);
  /** Another driver than the configured one (tests). */
  storage?: Storage;
}

export function makeStorage(config: FilesConfig): Storage {
  return config.storage === 's3' ? makeS3Storage(config.s3) : makeLocalStorage(config.localDir);
}

export function makeFileService(deps: FileServiceDeps) {
  const { config, db } = deps;
  const storage = deps.storage ?? makeStorage(config);
  const signer = makeUrlSigner(deps.keyring);
  const stagingDir = path.join(config.localDir, '.staging');

  async function limits(tenantId: string): Promise<Limits> {
    const o = ((await readFileSettings(db, tenantId)) ?? {}) as Record<string, unknown>;
    const pick = (value: unknown, fallback: number, unit: number) =>
      typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value * unit) : fallback;
    const MB = 1024 * 1024;
    return {
      maxFiles: pick(o.maxFiles, config.maxFilesPerTenant, 1),
      maxStorageBytes: pick(o.maxStorageMb, config.maxStorageBytesPerTenant, MB),
      maxFileBytes: pick(o.maxFileMb, config.maxFileBytes, MB),
    };
  }

  /** Writes the body to a staging file, hashing and counting; nothing of it stays in memory. */
  async function stage(body: UploadInput['body'], maxBytes: number) {
    await fs.mkdir(stagingDir, { recursive: true });
    const file = path.join(stagingDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const head: Buffer[] = [];
    let headBytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new FileTooLargeError(maxBytes));
        hash.update(chunk);
        if (headBytes < SNIFF_BYTES) {
          head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
          headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(file, { flags: 'wx' }));
    } catch (err) {
      await fs.rm(file, { force: true });
      throw err;
    }
    return { file, size, sha256: hash.digest('hex'), head: Buffer.concat(head) };
  }

  async function upload(tenantId: string, actor: string, input: UploadInput): Promise<FileRecord> {
    const name = checkFileName(input.name);
    const declared = declaredType(input.contentType);
    const limit = await limits(tenantId);
    if (input.declaredSize !== undefined && input.declaredSize > limit.maxFileBytes) {
      throw new FileTooLargeError(limit.maxFileBytes);
    }
    const staged = await stage(input.body, limit.maxFileBytes);
    try {
      if (staged.size === 0) throw new FileInputError('The file is empty.');
      const contentType = await resolveContentType(declared, staged.head);
      const id = uuidv7();
      const key = objectKey(tenantId, id);
      await withTenant(db, tenantId, async (trx) => {
        // One upload of a tenant at a time passes this point: the check and the reservation
        // are one step for every concurrent upload.
        await lockTenantFiles(trx, tenantId);
        const current = await fileUsage(trx, tenantId);
        if (current.files + 1 > limit.maxFiles || current.bytes + staged.size > limit.maxStorageBytes) {
          throw new QuotaExceededError(current, limit, staged.size);
        }
        await insertPendingFile(trx, {
          id,
          tenant_id: tenantId,
          name,
          content_type: contentType,
          size: staged.size,
          sha256: staged.sha256,
          storage_key: key,
          created_by: actor,
        });
        await notifyQuota(trx, tenantId, [
          {
            quota: 'files.bytes',
            before: current.bytes,
            after: current.bytes + staged.size,
            limit: limit.maxStorageBytes,
          },
          { quota: 'files.count', before: current.files, after: current.files + 1, limit: limit.maxFiles },
        ]);
      });
      try {
        await storage.put(key, {
          body: createReadStream(staged.file),
          size: staged.size,
          contentType,
          stagedPath: staged.file,
        });
      } catch (err) {
        await deleteFileRow(db, tenantId, id);
        throw err;
      }
      const finish = async (trx: Knex.Transaction) => {
        const row = await markFileReady(trx, tenantId, id);
        if (!row) throw new FileNotFoundError(`There is no file ${id}.`);
        return toRecord(row);
      };
      try {
        return await (input.commit ? input.commit(finish) : db.transaction(finish));
      } catch (err) {
        await storage.delete(key).catch(() => undefined);
        await deleteFileRow(db, tenantId, id).catch(() => undefined);
        throw err;
      }
    } finally {
      await fs.rm(staged.file, { force: true });
    }
  }

  async function list(tenantId: string, query: ListQuery): Promise<FileRecord[]> {
    return withTenant(db, tenantId, async (trx) =>
      (await listReadyFiles(trx, tenantId, query)).map(toRecord),
    );
  }

  async function get(tenantId: string, id: string): Promise<FileRecord> {
    if (!UUID.test(id)) throw new FileNotFoundError(`There is no file ${id}.`);
    const row = await withTenant(db, tenantId, (trx) => getReadyFile(trx, tenantId, id));
    if (!row) throw new FileNotFoundError(`There is no file ${id}.`);
    return toRecord(row);
  }

  async function signedUrl(tenantId: string, id: string, ttlSeconds: number): Promise<SignedUrl> {
    const record = await get(tenantId, id);
    const ttl = Math.min(Math.max(1, Math.floor(ttlSeconds)), MAX_URL_TTL_SECONDS);
    const expires = Math.floor(Date.now() / 1000) + ttl;
    const expiresAt = new Date(expires * 1000).toISOString();
    if (storage.presign) {
      const url = await storage.presign(
        objectKey(tenantId, id),
        ttl,
        contentDisposition(record),
        record.contentType,
      );
      return { url, expiresAt };
    }
    const signature = signer.sign(id, expires);
    return {
      url: `${typeof deps.publicUrl === 'string' ? deps.publicUrl : deps.publicUrl()}/v1/files/${id}/content?expires=${expires}&signature=${signature}`,
      expiresAt,
    };
  }

  /** Checks a signed URL's expiry and signature; the caller answers 403 when false. */
  function verifySignature(id: string, expires: number, signature: string): boolean {
    if (!Number.isSafeInteger(expires) || expires < Date.now() / 1000) return false;
    return signer.verify(id, expires, signature);
  }

  /** A live file by id alone (signed URLs name no tenant: the signature is the authority). */
  async function recordById(id: string): Promise<{ tenantId: string; record: FileRecord } | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await getReadyFileById(db, id);
    return row ? { tenantId: row.tenant_id, record: toRecord(row) } : undefined;
  }

  async function open(tenantId: string, record: FileRecord, range?: ByteRange): Promise<Readable> {
    return storage.get(objectKey(tenantId, record.id), range);
  }

  /** Soft-deletes the row (the quota share is free at once), then deletes the object. */
  async function remove(
    tenantId: string,
    id: string,
    commit?: (change: (trx: Knex.Transaction) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    if (!UUID.test(id)) throw new FileNotFoundError(`There is no file ${id}.`);
    const change = async (trx: Knex.Transaction) => {
      if (!(await softDeleteFile(trx, tenantId, id))) throw new FileNotFoundError(`There is no file ${id}.`);
    };
    await (commit ? commit(change) : db.transaction(change));
    // A storage failure here leaves an object without a live row: the sweep removes it.
    await storage.delete(objectKey(tenantId, id)).catch(() => undefined);
  }

  /**
   * Removes what interrupted work left: staging files and `pending` rows older than an hour,
   * and objects whose row is deleted, missing, or pending that long.
   */
  async function sweep(now = Date.now()): Promise<{ objects: number; rows: number; staged: number }> {
    return sweepFiles({ db, storage, stagingDir }, now);
  }

  return {
    storage,
    limits,
    usage: (tenantId: string): Promise<Usage> => withTenant(db, tenantId, (trx) => fileUsage(trx, tenantId)),
    upload,
    list,
    get,
    signedUrl,
    verifySignature,
    recordById,
    open,
    remove,
    sweep,
  };
}
