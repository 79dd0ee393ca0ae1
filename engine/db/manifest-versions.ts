/** Queries of `manifest_versions`: every manifest version a run pinned, by content hash. */
import type { Knex } from 'knex';

/** Stores manifest versions once each; runs refer to them by hash. */
export async function saveManifestVersions(
  db: Knex,
  versions: Array<{ hash: string; kind: string; id: string; content: unknown }>,
): Promise<void> {
  if (versions.length === 0) return;
  await db('manifest_versions')
    .insert(
      versions.map((v) => ({
        hash: v.hash,
        kind: v.kind,
        manifest_id: v.id,
        content: JSON.stringify(v.content),
      })),
    )
    .onConflict('hash')
    .ignore();
}

export async function loadManifestVersion(db: Knex, hash: string): Promise<unknown | undefined> {
  const row = await db('manifest_versions').where({ hash }).first('content');
  return row?.content;
}
