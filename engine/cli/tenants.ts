import os from 'node:os';
import { recordAudit } from '../db/audit.ts';
import type { Knex } from '../db/knex.ts';
import { createTenant, listTenants, TenantExistsError, updateTenant } from '../db/tenants.ts';
import { TENANT_ID } from '../tenants/status.ts';
import { CliError, type CliIO, type Command, configFrom, UsageError } from './command.ts';
import { engineRequest, engineSession } from './engine-client.ts';
import { parseCommandArgs } from './main.ts';

export const tenants: Command = {
  name: 'tenants',
  summary: 'Add, list, disable or enable tenants',
  usage: `Usage: atlas tenants <add|list|disable|enable> [id] [--name <name>]

  add <id> [--name <name>]  create a tenant (id: lowercase letters, digits and dashes)
  list                      every tenant with its status
  disable <id>              refuse the tenant's API calls and stop its runs from starting
  enable <id>               undo disable

Each change is recorded in the audit log, with your user name as the actor.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, { name: { type: 'string' } }, true);
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    if (action === 'list') {
      if (id !== undefined) throw new UsageError('list takes no id');
      const rows = await listFromEngine(io);
      return rows
        ? print(io, rows)
        : withDb(io, async (db) => print(io, await listTenants(db, { limit: 10_000 })));
    }
    if (action !== 'add' && action !== 'disable' && action !== 'enable') {
      throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
    }
    if (id === undefined) throw new UsageError(`${action} needs a tenant id`);
    if (!TENANT_ID.test(id))
      throw new UsageError(`"${id}" is not a tenant id: use lowercase letters, digits and dashes`);
    if (values.name !== undefined && action !== 'add') throw new UsageError('--name goes with add');
    return withDb(io, (db) => change(db, io, action, id, values.name));
  },
};

type Row = { id: string; status: string; name: string };

/** Every tenant, page by page, from the engine running beside this command (no database client to load). */
async function listFromEngine(io: CliIO): Promise<Row[] | undefined> {
  const session = await engineSession(configFrom(io), { tenants: [], admin: true, ttlSeconds: 60 });
  if (!session) return undefined;
  const rows: Row[] = [];
  let cursor: string | undefined;
  do {
    const query = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const answer = await engineRequest(`${session.engine.url}/v1/tenants?limit=200${query}`, {
      token: session.token,
    }).catch(() => undefined);
    if (answer?.status !== 200) return undefined; // the engine gone, or a token it refuses: ask the database
    const page = answer.body as { items: Row[]; nextCursor?: string };
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return rows;
}

function print(io: CliIO, rows: Row[]): number {
  if (rows.length === 0) io.out('No tenants. Add one with `atlas tenants add <id>`.');
  const width = Math.max(0, ...rows.map((t) => t.id.length));
  for (const t of rows) io.out(`${t.id.padEnd(width)}  ${t.status.padEnd(8)}  ${t.name}`);
  return 0;
}

async function change(db: Knex, io: CliIO, action: 'add' | 'disable' | 'enable', id: string, name?: string) {
  const actor = `cli:${os.userInfo().username}`;
  await db.transaction(async (trx) => {
    if (action === 'add') {
      await createTenant(trx, { id, name: name ?? id }).catch((err: unknown) => {
        throw err instanceof TenantExistsError ? new CliError(`tenant "${id}" already exists`) : err;
      });
    } else {
      const updated = await updateTenant(trx, id, { status: action === 'disable' ? 'disabled' : 'active' });
      if (!updated) throw new CliError(`there is no tenant "${id}"; \`atlas tenants list\` shows them`);
    }
    await recordAudit(trx, {
      actor,
      action: action === 'add' ? 'tenants.create' : 'tenants.update',
      entityType: 'tenant',
      entityId: id,
      result: 'ok',
      summary:
        action === 'add'
          ? { id, name: name ?? id }
          : { status: action === 'disable' ? 'disabled' : 'active' },
    });
  });
  io.out(
    action === 'add'
      ? `Added tenant ${id}.`
      : `Tenant ${id} is ${action === 'disable' ? 'disabled' : 'active'}.`,
  );
  return 0;
}

async function withDb(io: CliIO, fn: (db: Knex) => Promise<number>): Promise<number> {
  // The database client loads only here: a list answered by the running engine needs none.
  const { openCliDatabase } = await import('./database.ts');
  const { db, close } = await openCliDatabase(io, { prepare: true });
  try {
    return await fn(db);
  } finally {
    await close();
  }
}
