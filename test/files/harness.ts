/** The API with file storage on a real HTTP server: a temporary ATLAS_HOME, a fresh keyring. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { FileService } from '../../engine/files/service.ts';
import { type Api, startApi } from '../http/harness.ts';

export interface FilesApi extends Api {
  home: string;
  files: FileService;
}

export async function startFilesApi(db: Knex, env: Record<string, string> = {}): Promise<FilesApi> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-files-'));
  const api = await startApi(db, { ATLAS_HOME: home, ...env });
  const files = api.engine.services.files;
  return {
    ...api,
    home,
    files,
    async close() {
      await api.close();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** A minimal valid PDF: what `file-type` recognises by its `%PDF-` signature. */
export function pdfBytes(text = 'hello'): Buffer {
  return Buffer.from(
    `%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
  );
}

export async function upload(
  api: Api,
  token: string,
  tenant: string,
  name: string,
  bytes: Uint8Array,
  contentType = 'application/octet-stream',
): Promise<Response> {
  return fetch(`${api.url}/v1/files?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-tenant-id': tenant, 'content-type': contentType },
    body: bytes,
  });
}
