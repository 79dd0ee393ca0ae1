/**
 * The storage drivers' one interface: objects by key (`tenants/<tenant>/<file id>`), written
 * whole or not at all, read as streams with an optional byte range. `local` keeps them under
 * ATLAS_HOME/files; `s3` in any S3-compatible bucket.
 */
import type { Readable } from 'node:stream';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface PutSource {
  /** The bytes, read once. */
  body: Readable;
  size: number;
  contentType: string;
  /** A staged file holding the same bytes: the local driver moves it instead of copying. */
  stagedPath?: string;
}

export interface Storage {
  readonly kind: 'local' | 's3';
  put(key: string, source: PutSource): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<{ size: number } | undefined>;
  delete(key: string): Promise<void>;
  /** Every key under a prefix (the orphan sweep). */
  list(prefix: string): AsyncIterable<string>;
  /**
   * A presigned GET URL, for drivers whose service signs them (s3); `undefined` when Atlas
   * serves the bytes itself (local).
   */
  presign?(key: string, ttlSeconds: number, disposition: string, contentType: string): Promise<string>;
  /** Releases the driver's connections. */
  close?(): void;
}

/** The storage service cannot be reached or refused to work: a 503, retried later. */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
}

/** The object the row names is missing from storage. */
export class ObjectMissingError extends Error {
  override readonly name = 'ObjectMissingError';
}

/**
 * What a driver failed with, as the service expects it: Atlas's own storage errors as they
 * are, anything else a {@link StorageUnavailableError} saying what the driver could tell of it
 * (`local storage failed (EACCES)`), the original kept as its cause.
 */
export function storageFailure(driver: Storage['kind'], what: string, err: unknown): Error {
  if (err instanceof StorageUnavailableError || err instanceof ObjectMissingError) return err;
  return new StorageUnavailableError(`${driver} storage failed (${what})`, { cause: err });
}

const KEY =
  /^tenants\/[a-z0-9][a-z0-9-]{0,62}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function objectKey(tenantId: string, fileId: string): string {
  const key = `tenants/${tenantId}/${fileId}`;
  if (!KEY.test(key)) throw new Error(`not a storage key: ${key}`);
  return key;
}

/** The file id in a key, or undefined when the key is not one Atlas writes. */
export function fileIdOfKey(key: string): { tenantId: string; fileId: string } | undefined {
  if (!KEY.test(key)) return undefined;
  const [, tenantId, fileId] = key.split('/');
  return { tenantId: tenantId!, fileId: fileId! };
}
