/**
 * The audit chain's hashes, computed here for writing and verifying alike:
 *
 * - `payload_hash` = SHA-256 of the summary in RFC 8785 canonical JSON (null when there is no
 *   summary);
 * - the content hash = SHA-256 of a JSON array of the row's fields in a fixed order, the time
 *   in integer microseconds and the payload hash in hex (the payload itself is not in it, so
 *   it can be erased);
 * - `hash` = SHA-256 of `prev_hash || seq (8 bytes, big-endian) || content hash`, the first
 *   row of a chain linking to 32 zero bytes.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS: Buffer = Buffer.alloc(32);

const FORMAT = 'atlas.audit.v1';

/** A row's hashed fields as stored (`at_us`: microseconds since the epoch, as text). */
export interface HashedFields {
  tenant_id: string | null;
  at_us: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string | null;
  request_id: string | null;
  status: number | null;
  result: string;
  connector: string | null;
  method: string | null;
  host: string | null;
  path: string | null;
  duration_ms: number | null;
}

const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();

export function payloadHash(summary: unknown): Buffer {
  return sha256(summary === null || summary === undefined ? 'null' : (canonicalize(summary) ?? 'null'));
}

export function contentHash(row: HashedFields, payload: Buffer): Buffer {
  return sha256(
    JSON.stringify([
      FORMAT,
      row.tenant_id,
      String(row.at_us),
      row.actor,
      row.action,
      row.entity_type,
      row.entity_id,
      row.request_id,
      row.status,
      row.result,
      row.connector,
      row.method,
      row.host,
      row.path,
      row.duration_ms,
      payload.toString('hex'),
    ]),
  );
}

export function chainHash(prev: Buffer, seq: number | bigint, content: Buffer): Buffer {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigInt64BE(BigInt(seq));
  return sha256(Buffer.concat([prev, seqBytes, content]));
}
