// The tenants' chunk vectors in memory for exact cosine search, and the SQL search beyond its budget.
import type { Knex } from 'knex';
import { type Ranked, searchVectorSql, type VectorQuery } from './kb-search.ts';

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
    // As text: `{0.1,0.2}` read by JSON.parse is several times faster than pg's array parser.
    const rows = (await trx('kb_chunks as c')
      .join('kb_documents as d', 'd.id', 'c.document_id')
      .where({ 'c.tenant_id': tenantId, 'd.status': 'ready' })
      .whereRaw('cardinality(c.embedding) = ?', [dims])
      .select(
        trx.raw('c.id::text as id'),
        'c.document_id',
        trx.raw('c.embedding::text as embedding'),
      )) as Array<{
      id: string;
      document_id: string;
      embedding: string;
    }>;
    const matrix = new Float32Array(rows.length * dims);
    for (const [i, r] of rows.entries())
      matrix.set(JSON.parse(`[${r.embedding.slice(1, -1)}]`) as number[], i * dims);
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
