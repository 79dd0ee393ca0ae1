import type { Knex } from 'knex';

/**
 * Each chunk's embedding also as packed big-endian float32 (`float4send` of each element, the
 * order PostgreSQL's binary protocol uses), generated from the `real[]` column so the two never
 * differ. A tenant's vector cache loads these bytes (2 KB a row at 512 dimensions) instead of
 * the array's text form, which the server had to print and the engine to parse, number by
 * number. Full-text-only chunks hold null (the function is strict). Generating it costs the
 * server about what printing the array as text once does, paid when the embedding is written
 * instead of at every load.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function kb_pack_f32(v real[]) returns bytea
    language sql immutable strict parallel safe
    set search_path = pg_catalog as $$
      select coalesce(string_agg(float4send(x), ''::bytea order by i), ''::bytea)
        from unnest(v) with ordinality as u(x, i)
    $$`);
  await knex.raw(
    'alter table kb_chunks add column embedding_f32 bytea generated always as (kb_pack_f32(embedding)) stored',
  );
  // Random floats do not compress: store them out of line as they are, without trying.
  await knex.raw('alter table kb_chunks alter column embedding_f32 set storage external');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table kb_chunks drop column embedding_f32');
  await knex.raw('drop function kb_pack_f32(real[])');
}
