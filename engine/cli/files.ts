import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDuration } from '../connector-sdk/index.ts';
import { recordAudit } from '../db/audit.ts';
import type { Knex } from '../db/knex.ts';
import { getTenant } from '../db/tenants.ts';
import { toConnectorError } from '../files/access.ts';
import { type FileService, makeFileService } from '../files/service.ts';
import { loadKeyring } from '../secrets/keys.ts';
import { TENANT_ID } from '../tenants/status.ts';
import { CliError, type CliIO, type Command, UsageError } from './command.ts';
import { openCliDatabase } from './database.ts';
import { parseCommandArgs } from './main.ts';

export const files: Command = {
  name: 'files',
  summary: "Upload, list, link or delete a tenant's files",
  usage: `Usage: atlas files <put|list|url|rm> --tenant <id> [...]

  put <path> [--name <name>] [--type <media type>]   upload a file (name: the file's own)
  list [--prefix <text>]                             the tenant's files, newest first, and its usage
  url <file id> [--ttl 15m]                          a download URL that needs no token (at most 7d)
  rm <file id>                                       delete a file

Uses the storage Atlas is configured with (ATLAS_STORAGE). Uploads and deletions are
recorded in the audit log, with your user name as the actor.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(
      args,
      {
        tenant: { type: 'string' },
        name: { type: 'string' },
        type: { type: 'string' },
        prefix: { type: 'string' },
        ttl: { type: 'string' },
      },
      true,
    );
    const [action, target, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    const tenant = values.tenant;
    if (tenant === undefined) throw new UsageError('--tenant is required');
    if (!TENANT_ID.test(tenant)) throw new UsageError(`"${tenant}" is not a tenant id`);
    if (action === 'list') {
      if (target !== undefined) throw new UsageError('list takes no argument');
      return withFiles(io, tenant, (svc) => list(svc, io, tenant, values.prefix));
    }
    if (action !== 'put' && action !== 'url' && action !== 'rm') {
      throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
    }
    if (target === undefined)
      throw new UsageError(action === 'put' ? 'put needs a path' : `${action} needs a file id`);
    let ttlSeconds = 900;
    if (values.ttl !== undefined) {
      if (action !== 'url') throw new UsageError('--ttl goes with url');
      try {
        ttlSeconds = Math.ceil(parseDuration(values.ttl) / 1000);
      } catch {
        throw new UsageError(`--ttl must be a duration such as 15m, 2h or 7d (got "${values.ttl}")`);
      }
      if (ttlSeconds < 1 || ttlSeconds > 7 * 86_400) throw new UsageError('--ttl must be from 1s to 7d');
    }
    if (action === 'put') return withFiles(io, tenant, (svc, db) => put(svc, db, io, tenant, target, values));
    if (action === 'url')
      return withFiles(io, tenant, async (svc) => {
        const { url, expiresAt } = await svc.signedUrl(tenant, target, ttlSeconds);
        io.out(url);
        io.err(`expires ${expiresAt}`);
        return 0;
      });
    return withFiles(io, tenant, async (svc, db) => {
      await svc.remove(tenant, target, (change) =>
        db.transaction(async (trx) => {
          await change(trx);
          await recordAudit(trx, fileAuditEntry(tenant, 'files.delete', target, {}));
        }),
      );
      io.out(`Deleted ${target}.`);
      return 0;
    });
  },
};

/** The audit entry of a file the CLI stored or deleted for a tenant. */
export function fileAuditEntry(
  tenantId: string,
  action: string,
  id: string,
  summary: Record<string, unknown>,
) {
  return {
    tenantId,
    actor: `cli:${os.userInfo().username}`,
    action,
    entityType: 'file',
    entityId: id,
    result: 'ok' as const,
    summary,
  };
}

async function put(
  svc: FileService,
  db: Knex,
  io: CliIO,
  tenant: string,
  file: string,
  opts: { name?: string | undefined; type?: string | undefined },
): Promise<number> {
  const full = path.resolve(io.cwd, file);
  const stat = await fs.stat(full).catch(() => undefined);
  if (!stat?.isFile()) throw new CliError(`${file} is not a readable file`);
  const record = await svc.upload(tenant, `cli:${os.userInfo().username}`, {
    name: opts.name ?? path.basename(full),
    contentType: opts.type,
    body: createReadStream(full),
    declaredSize: stat.size,
    commit: (finish) =>
      db.transaction(async (trx) => {
        const r = await finish(trx);
        await recordAudit(trx, fileAuditEntry(tenant, 'files.put', r.id, { name: r.name, size: r.size }));
        return r;
      }),
  });
  io.out(`${record.id}  ${record.size}  ${record.contentType}  ${record.name}`);
  return 0;
}

async function list(svc: FileService, io: CliIO, tenant: string, prefix?: string): Promise<number> {
  const items = await svc.list(tenant, { limit: 10_000, ...(prefix === undefined ? {} : { prefix }) });
  const [usage, limits] = await Promise.all([svc.usage(tenant), svc.limits(tenant)]);
  for (const f of items) io.out(`${f.id}  ${String(f.size).padStart(10)}  ${f.createdAt}  ${f.name}`);
  io.err(
    `${usage.files} of ${limits.maxFiles} files, ${mb(usage.bytes)} of ${mb(limits.maxStorageBytes)} MB used`,
  );
  return 0;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function withFiles(
  io: CliIO,
  tenant: string,
  fn: (svc: FileService, db: Knex) => Promise<number>,
): Promise<number> {
  const { db, close, config, log } = await openCliDatabase(io, { prepare: true });
  let svc: FileService | undefined;
  try {
    if (!(await getTenant(db, tenant)))
      throw new CliError(`there is no tenant "${tenant}"; \`atlas tenants list\` shows them`);
    const keyring = await loadKeyring(config, log);
    svc = makeFileService({ config: config.files, db, keyring, publicUrl: config.oauth.publicUrl });
    return await fn(svc, db);
  } catch (err) {
    const mapped = toConnectorError(err);
    if (mapped !== err) throw new CliError((mapped as Error).message.replace(/\.$/, ''));
    throw err;
  } finally {
    svc?.storage.close?.();
    await close();
  }
}
