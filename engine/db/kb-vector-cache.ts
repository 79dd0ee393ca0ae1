// The tenants' chunk vectors in memory for exact cosine search, and the SQL search beyond its budget.
import os from 'node:os';
import type { Knex } from 'knex';
import { type Ranked, READY_CHUNKS, searchVectorSql, type VectorQuery } from './kb-search.ts';

export interface TenantVectors {
  version: string;
  dims: number;
  ids: string[];
  documents: string[];
  matrix: Float32Array;
  bytes: number;
}

/**
 * The tenants' vectors in memory, within a byte budget (least recently used tenants leave
 * first). An entry is valid while the tenant's documents are unchanged (count, latest update,
 * chunk total); a tenant whose vectors alone exceed the budget is searched in SQL.
 */
export class VectorCache {
  private readonly entries = new Map<string, TenantVectors>();
  private used = 0;

  constructor(readonly budgetBytes: number) {}

  get bytesUsed(): number {
    return this.used;
  }

  /** The tenant's cached vectors, if loaded. */
  entry(tenantId: string): TenantVectors | undefined {
    return this.entries.get(tenantId);
  }

  async search(trx: Knex.Transaction, query: VectorQuery): Promise<Ranked[]> {
    const { tenantId, vector, n, filter } = query;
    const { rows } = await trx.raw<{ rows: Array<{ version: string; vectors: number }> }>(
      `select count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(chunk_count), 0) as version,
              coalesce(sum(chunk_count) filter (where embedding_dimensions = ?), 0)::bigint as vectors
         from kb_documents where tenant_id = ? and status = 'ready'`,
      [vector.length, tenantId],
    );
    const { version, vectors } = rows[0]!;
    const needed = Number(vectors) * vector.length * 4;
    if (needed > this.budgetBytes) return searchVectorSql(trx, query, false);
    let entry = this.entries.get(tenantId);
    if (!entry || entry.version !== version || entry.dims !== vector.length) {
      this.drop(tenantId);
      entry = await this.load(trx, tenantId, vector.length, version);
      this.makeRoom(entry.bytes);
      this.used += entry.bytes;
    } else this.entries.delete(tenantId);
    this.entries.set(tenantId, entry); // most recently used last
    let allowed: Set<string> | undefined;
    if (filter && Object.keys(filter).length > 0) {
      const docs = await trx('kb_documents')
        .where({ tenant_id: tenantId })
        .whereRaw('metadata @> ?::jsonb', [JSON.stringify(filter)])
        .pluck('id');
      allowed = new Set(docs as string[]);
    }
    return topK(entry, vector, n, allowed);
  }

  private async load(
    trx: Knex.Transaction,
    tenantId: string,
    dims: number,
    version: string,
  ): Promise<TenantVectors> {
    // The packed float32 copy (migration 320): bytes copied into the matrix, not numbers
    // printed by the server and parsed here one by one. Its length comes from the TOAST
    // pointer: the real[] is not read at all.
    const { rows } = await trx.raw<{ rows: Array<{ id: string; document_id: string; packed: Buffer }> }>(
      `select c.id::text as id, c.document_id, c.embedding_f32 as packed
         from ${READY_CHUNKS} and octet_length(c.embedding_f32) = ?`,
      [tenantId, dims * 4],
    );
    const matrix = new Float32Array(rows.length * dims);
    const bytes = new Uint8Array(matrix.buffer);
    for (const [i, r] of rows.entries()) bytes.set(r.packed, i * dims * 4);
    if (os.endianness() === 'LE') Buffer.from(matrix.buffer).swap32(); // big-endian, as stored
    return {
      version,
      dims,
      ids: rows.map((r) => r.id),
      documents: rows.map((r) => r.document_id),
      matrix,
      bytes: matrix.byteLength + rows.length * 100,
    };
  }

  private drop(tenantId: string): void {
    const entry = this.entries.get(tenantId);
    if (!entry) return;
    this.used -= entry.bytes;
    this.entries.delete(tenantId);
  }

  private makeRoom(bytes: number): void {
    for (const tenant of this.entries.keys()) {
      if (this.used + bytes <= this.budgetBytes) break;
      this.drop(tenant);
    }
  }
}

/**
 * The `n` rows closest to `q`: unit vectors, so the dot product is the cosine. One pass over
 * the matrix with four accumulators (the loop the JIT keeps in registers), and the best `n`
 * kept sorted in typed arrays by insertion: no allocation per row, no sort of all scores.
 */
export function topK(entry: TenantVectors, q: Float32Array, n: number, allowed?: Set<string>): Ranked[] {
  const { matrix, dims } = entry;
  const k = Math.max(0, Math.min(n, entry.ids.length));
  if (k === 0) return [];
  const scores = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  const rows = new Int32Array(k).fill(-1);
  let floor = Number.NEGATIVE_INFINITY;
  const tail = dims - (dims % 4);
  for (let row = 0, off = 0; row < entry.ids.length; row++, off += dims) {
    if (allowed && !allowed.has(entry.documents[row]!)) continue;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let j = 0;
    for (; j < tail; j += 4) {
      a0 += matrix[off + j]! * q[j]!;
      a1 += matrix[off + j + 1]! * q[j + 1]!;
      a2 += matrix[off + j + 2]! * q[j + 2]!;
      a3 += matrix[off + j + 3]! * q[j + 3]!;
    }
    for (; j < dims; j++) a0 += matrix[off + j]! * q[j]!;
    const dot = a0 + a1 + a2 + a3;
    if (dot <= floor) continue;
    let i = k - 1;
    while (i > 0 && scores[i - 1]! < dot) {
      scores[i] = scores[i - 1]!;
      rows[i] = rows[i - 1]!;
      i--;
    }
    scores[i] = dot;
    rows[i] = row;
    floor = scores[k - 1]!;
  }
  const out: Ranked[] = [];
  for (let i = 0; i < k && rows[i]! >= 0; i++) out.push({ id: entry.ids[rows[i]!]!, score: scores[i]! });
  // Equal scores in id order, as the SQL path sorts them.
  return out.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
