import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type AnchorPoint, anchorAudit, parseAnchors, verifyAudit } from '../db/audit-chain.ts';
import { eraseAuditPayloads } from '../db/audit-retention.ts';
import type { Knex } from '../db/knex.ts';
import { TENANT_ID } from '../tenants/status.ts';
import { CliError, type CliIO, type Command, UsageError } from './command.ts';
import { type CliDatabase, openCliDatabase } from './database.ts';
import { parseCommandArgs } from './main.ts';

export const audit: Command = {
  name: 'audit',
  summary: 'Verify the hash-chained audit log, anchor it, erase old payloads',
  usage: `Usage: atlas audit <verify|anchor|erase> [options]

  verify [--tenant T] [--anchor FILE] [--json]
      walk each tenant's chain (or T's) and name the first row that was edited, deleted,
      inserted or reordered; with --anchor, also check the hashes an earlier \`atlas audit
      anchor\` printed (one anchor, or several as JSON lines). Exit 0 intact, 1 not.
  anchor [--tenant T] [--webhook URL]
      print the latest seq and hash of each chain as one JSON line (append it to a file kept
      outside the database); with --webhook, also POST it there (signed as Standard Webhooks
      with ATLAS_AUDIT_ANCHOR_SECRET when set).
  erase --before DATE [--tenant T]
      erase the payloads (summaries) of entries older than DATE for retention; their hashes
      stay, so the chain still verifies.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(
      args,
      {
        tenant: { type: 'string' },
        anchor: { type: 'string' },
        webhook: { type: 'string' },
        before: { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    );
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    const tenantId = values.tenant;
    if (tenantId !== undefined && !TENANT_ID.test(tenantId))
      throw new UsageError(`"${tenantId}" is not a tenant id`);
    const only = (allowed: string[]) => {
      for (const option of ['anchor', 'webhook', 'before', 'json'] as const) {
        if (values[option] !== undefined && !allowed.includes(option)) {
          throw new UsageError(`--${option} does not go with ${action}`);
        }
      }
    };
    if (action === 'verify') {
      only(['anchor', 'json']);
      const anchors = values.anchor === undefined ? undefined : await readAnchors(io, values.anchor);
      return withDb(io, ({ db }) => verify(db, io, tenantId, anchors, values.json === true));
    }
    if (action === 'anchor') {
      only(['webhook']);
      const url = values.webhook === undefined ? undefined : webhookUrl(values.webhook);
      return withDb(io, (cli) => anchor(cli, io, tenantId, url));
    }
    if (action === 'erase') {
      only(['before']);
      if (values.before === undefined) throw new UsageError('erase needs --before DATE');
      const before = new Date(values.before);
      if (Number.isNaN(before.getTime())) throw new UsageError(`--before "${values.before}" is not a date`);
      return withDb(io, ({ db }) => erase(db, io, before, tenantId));
    }
    throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
  },
};

async function readAnchors(io: CliIO, file: string): Promise<AnchorPoint[]> {
  let text: string;
  try {
    text = await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read the anchor file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return parseAnchors(text, file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function webhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--webhook "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--webhook must be an http(s) URL (got ${url.protocol}//)`);
  }
  return url;
}

const chainName = (tenantId: string | null) => tenantId ?? '(platform)';

async function verify(
  db: Knex,
  io: CliIO,
  tenantId: string | undefined,
  anchors: AnchorPoint[] | undefined,
  json: boolean,
): Promise<number> {
  const reports = await verifyAudit(db, {
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(anchors ? { anchors } : {}),
  });
  const intact = reports.every((r) => r.ok);
  if (json) {
    io.out(JSON.stringify({ ok: intact, chains: reports }));
    return intact ? 0 : 1;
  }
  if (reports.length === 0) io.out('No audit entries.');
  for (const r of reports) {
    const rows = `${r.rows} row${r.rows === 1 ? '' : 's'}${r.erased ? ` (${r.erased} erased)` : ''}`;
    if (r.ok) {
      io.out(
        `${chainName(r.tenantId)}: intact, ${rows}${r.head ? `, head seq ${r.head.seq} ${r.head.hash}` : ''}`,
      );
    } else {
      io.out(
        `${chainName(r.tenantId)}: ${r.problem!.kind.toUpperCase()} at seq ${r.problem!.seq}: ${r.problem!.message}`,
      );
    }
  }
  return intact ? 0 : 1;
}

async function anchor(cli: CliDatabase, io: CliIO, tenantId: string | undefined, url: URL | undefined) {
  const result = await anchorAudit(cli.db, tenantId !== undefined ? { tenantId } : {});
  const body = JSON.stringify(result);
  io.out(body);
  if (url === undefined) return 0;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const secret = cli.config.auditAnchorSecret;
  if (secret !== undefined) {
    const { Webhook } = await import('standardwebhooks');
    const id = `anchor_${randomUUID()}`;
    const at = new Date();
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(Math.floor(at.getTime() / 1000));
    headers['webhook-signature'] = new Webhook(secret).sign(id, at, body);
  }
  let status: number;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    status = res.status;
  } catch (err) {
    throw new CliError(`the anchor could not be posted to ${url.origin}: ${(err as Error).message}`);
  }
  if (status < 200 || status >= 300) throw new CliError(`${url.origin} answered ${status} to the anchor`);
  return 0;
}

async function erase(db: Knex, io: CliIO, before: Date, tenantId: string | undefined): Promise<number> {
  const count = await eraseAuditPayloads(db, before, tenantId);
  io.out(
    `Erased the payloads of ${count} audit entr${count === 1 ? 'y' : 'ies'} older than ${before.toISOString()}.`,
  );
  return 0;
}

async function withDb(io: CliIO, fn: (cli: CliDatabase) => Promise<number>): Promise<number> {
  const cli = await openCliDatabase(io, { prepare: true });
  try {
    return await fn(cli);
  } finally {
    await cli.close();
  }
}
