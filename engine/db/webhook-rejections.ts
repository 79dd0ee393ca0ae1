/** Queries of `webhook_rejections`: refused deliveries summed per route, reason and minute. */
import type { Knex } from 'knex';

export interface RejectionSum {
  route_id: string;
  reason: string;
  /** The minute, as an ISO timestamp. */
  minute: string;
  status: number;
  count: number;
  last_source: string;
}

/** Adds the sums to the table in one upsert (the last source is cut to 100 characters). */
export async function addRejections(db: Knex, rows: readonly RejectionSum[]): Promise<void> {
  await db.raw(
    `insert into webhook_rejections (route_id, reason, minute, status, count, last_source)
     select route_id, reason, minute, status, count, left(last_source, 100)
       from jsonb_to_recordset(?::jsonb)
            as r(route_id text, reason text, minute timestamptz, status smallint, count bigint, last_source text)
     on conflict (route_id, reason, minute) do update
        set count = webhook_rejections.count + excluded.count,
            status = excluded.status, last_source = excluded.last_source`,
    [JSON.stringify(rows)],
  );
}

/** Deletes the sums of minutes before `before`; returns how many rows went. */
export async function deleteRejectionsBefore(db: Knex, before: Date): Promise<number> {
  return db('webhook_rejections').where('minute', '<', before).delete();
}
