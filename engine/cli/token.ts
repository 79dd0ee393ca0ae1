import os from 'node:os';
import { resolveAuth } from '../auth/dev-secret.ts';
import { mintToken } from '../auth/mint.ts';
import type { Config } from '../config.ts';
import { runningInstanceUrl } from '../db/instance.ts';
import { TENANT_ID } from '../tenants/status.ts';
import { CliError, type CliIO, type Command, configFrom, UsageError } from './command.ts';
import { engineRequest, engineSession } from './engine-client.ts';
import { parseCommandArgs } from './main.ts';

const TTL = /^(\d+)(s|m|h|d)$/;
const TTL_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** Development tokens are for trying the API, not for services: they expire within a month. */
const MAX_TTL_SECONDS = 30 * 86_400;

export const token: Command = {
  name: 'token',
  summary: 'Mint a development API token (HS256 with ATLAS_JWT_SECRET)',
  usage: `Usage: atlas token --tenant <id> [--tenant <id>...] [--sub <subject>] [--ttl 1h] [--admin]

Prints a bearer token for the HTTP API, signed with ATLAS_JWT_SECRET (on the embedded
database without one, with the development secret Atlas keeps in ATLAS_HOME).

  --tenant <id>   a tenant the token grants (repeatable)
  --sub <subject> who the token speaks for, shown in the audit log (default: your user name)
  --ttl <time>    lifetime: 30m, 1h, 7d... (default 1h, at most 30d)
  --admin         add the admin role: manage tenants (GET/POST/PATCH /v1/tenants)

Example:
  TOKEN=$(npx atlas token --tenant demo)
  curl -H "Authorization: Bearer $TOKEN" -H 'x-tenant-id: demo' http://127.0.0.1:3000/v1/workflows`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      tenant: { type: 'string', multiple: true },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      admin: { type: 'boolean', default: false },
    });
    const tenants = values.tenant ?? [];
    if (tenants.length === 0 && !values.admin)
      throw new UsageError('name a tenant with --tenant, or pass --admin');
    for (const id of tenants) if (!TENANT_ID.test(id)) throw new UsageError(`"${id}" is not a tenant id`);
    const ttlSeconds = parseTtl(values.ttl);
    const config = configFrom(io);
    const { auth } = await resolveAuth(config);
    if (auth.jwtSecret === undefined) {
      throw new CliError(
        'ATLAS_JWT_SECRET is not set: this server verifies tokens from ATLAS_JWKS_URL, so ask your identity provider for one',
      );
    }
    // The database answers while the token is signed; a check that cannot run says nothing.
    const warned = warnUnknownTenants(io, config, tenants).catch(() => {});
    io.out(
      await mintToken({
        secret: auth.jwtSecret,
        sub: values.sub ?? os.userInfo().username,
        tenants,
        admin: values.admin,
        ttlSeconds,
        ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
        ...(auth.audience === undefined ? {} : { audience: auth.audience }),
      }),
    );
    await warned;
    return 0;
  },
};

/**
 * A token for a tenant that does not exist gets a 403 on every call: say so (on stderr, so
 * `TOKEN=$(atlas token ...)` still works). Asks the running engine when there is one, else a
 * database reachable without starting one; says nothing when neither can answer.
 */
async function warnUnknownTenants(io: CliIO, config: Config, tenants: string[]): Promise<void> {
  if (tenants.length === 0) return;
  const statuses =
    (await statusesFromEngine(config, tenants)) ?? (await statusesFromDatabase(config, tenants));
  if (!statuses) return;
  for (const id of tenants) {
    const status = statuses.get(id);
    if (status === undefined)
      io.err(
        `warning: there is no tenant "${id}": its API calls will be refused (403) until \`atlas tenants add ${id}\``,
      );
    else if (status !== 'active')
      io.err(`warning: tenant "${id}" is ${status}: its API calls will be refused (403)`);
  }
}

type Statuses = Map<string, string>;

/** GET /v1/tenants/:id of the engine running beside this command: no database client to load. */
async function statusesFromEngine(config: Config, tenants: string[]): Promise<Statuses | undefined> {
  const session = await engineSession(config, { tenants: [], admin: true, ttlSeconds: 60 });
  if (!session) return undefined;
  const statuses: Statuses = new Map();
  for (const id of tenants) {
    // A tenant it does not know is a 404, which tells as much as an answer; anything else
    // (the engine gone, a token it refuses) leaves the question to the database.
    const answer = await engineRequest(`${session.engine.url}/v1/tenants/${id}`, {
      token: session.token,
    }).catch(() => undefined);
    if (answer?.status === 200) statuses.set(id, (answer.body as { status: string }).status);
    else if (answer?.status !== 404) return undefined;
  }
  return statuses;
}

async function statusesFromDatabase(config: Config, tenants: string[]): Promise<Statuses | undefined> {
  const url = config.databaseUrl ?? (await runningInstanceUrl(config.home));
  if (!url) return undefined;
  // Loaded only when there is a database to ask.
  const [{ makeDb }, { getTenants }] = await Promise.all([
    import('../db/knex.ts'),
    import('../db/tenants.ts'),
  ]);
  const db = makeDb(url, { poolSize: 1 });
  try {
    return new Map((await getTenants(db, tenants)).map((row) => [row.id, row.status]));
  } catch {
    return undefined; // the token is for another database, or this one is not migrated yet
  } finally {
    await db.destroy();
  }
}

function parseTtl(raw: string): number {
  const match = TTL.exec(raw);
  const seconds = match ? Number(match[1]) * TTL_SECONDS[match[2] as keyof typeof TTL_SECONDS] : 0;
  if (seconds <= 0 || seconds > MAX_TTL_SECONDS) {
    throw new UsageError(`--ttl must be a duration such as 30m, 1h or 7d, at most 30d (got "${raw}")`);
  }
  return seconds;
}
