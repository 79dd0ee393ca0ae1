import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * The knowledge base: documents (`kb_documents`) and their chunks (`kb_chunks`), searched by
 * full text (a generated `tsvector` with a GIN index) and by embedding. Embeddings are kept in
 * a `real[]` column (exact cosine search, which every PostgreSQL can do); where the database
 * has the pgvector extension, a `vector(512)` copy with an HNSW index serves vector search
 * at the default dimension.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('kb_documents', (t) => {
    t.uuid('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('source_type').notNullable().comment('text, url, data (uploaded bytes), path, file');
    t.text('source_key')
      .notNullable()
      .comment('Identity of the source: re-ingesting it replaces the document');
    t.text('title');
    t.text('content_type');
    t.text('content_hash').comment('sha256 of the extracted text and chunking settings');
    t.text('status').notNullable().comment('ready or failed');
    t.jsonb('error').comment('Why the last ingestion failed');
    t.integer('chunk_count').notNullable().defaultTo(0);
    t.integer('token_count').notNullable().defaultTo(0);
    t.bigInteger('byte_count').notNullable().defaultTo(0);
    t.text('embedding_model');
    t.integer('embedding_dimensions');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'source_key']);
  });
  await knex.raw(
    `alter table kb_documents add constraint kb_documents_status check (status in ('ready', 'failed'))`,
  );
  await knex.raw('create index kb_documents_metadata on kb_documents using gin (metadata jsonb_path_ops)');

  await knex.schema.createTable('kb_chunks', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('document_id').notNullable().references('kb_documents.id').onDelete('cascade');
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.integer('ordinal').notNullable();
    t.text('text').notNullable();
    t.integer('token_count').notNullable();
    t.specificType('embedding', 'real[]').comment('Unit-length embedding, or null (full text only)');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.unique(['document_id', 'ordinal']);
    t.index(['tenant_id']);
  });
  await knex.raw(
    `alter table kb_chunks add column tsv tsvector generated always as (to_tsvector('english'::regconfig, text)) stored`,
  );
  await knex.raw('create index kb_chunks_tsv on kb_chunks using gin (tsv)');
  await enableTenantRls(knex, 'kb_documents');
  await enableTenantRls(knex, 'kb_chunks');

  // pgvector, where the database has it: a savepoint keeps a refusal from failing the migration.
  const hasVector = await knex
    .transaction(async (trx) => {
      await trx.raw('create extension if not exists vector');
    })
    .then(
      () => true,
      () => false,
    );
  if (hasVector) {
    await knex.raw('alter table kb_chunks add column embedding_vec vector(512)');
    await knex.raw('create index kb_chunks_hnsw on kb_chunks using hnsw (embedding_vec vector_cosine_ops)');
  }
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'kb_chunks');
  await disableTenantRls(knex, 'kb_documents');
  await knex.schema.dropTable('kb_chunks');
  await knex.schema.dropTable('kb_documents');
}
