/**
 * A tenant's admin-only settings (`tenants.settings`): what the operator grants it on the
 * platform's own credentials, and other parts' limits. Written only through the admin API
 * (`PUT /v1/tenants/:id/settings`); never merged into `tenant.config`, which a tenant's
 * workflow config overrides. Also the daily count of tokens spent on platform LLM keys.
 */
import type { Knex } from 'knex';
import type { TenantSettings } from '../connector-sdk/index.ts';

type Db = Knex | Knex.Transaction;

/**
 * The settings document. Open to top-level keys other parts define (`files`, ...); the keys
 * below are checked.
 */
export const tenantSettingsSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    mailboxes: {
      type: 'array',
      maxItems: 1000,
      uniqueItems: true,
      items: { type: 'string', format: 'email', maxLength: 254 },
      description:
        "Mailboxes the tenant may send from and read through the platform's mail credentials (Graph app, Resend key).",
    },
    llm: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tokensPerDay: {
          type: 'integer',
          minimum: 0,
          maximum: 1_000_000_000_000,
          description:
            "Tokens the tenant may spend per UTC day on the platform's LLM keys (0 or absent: none).",
        },
      },
    },
    telegram: {
      type: 'object',
      additionalProperties: false,
      properties: {
        chats: {
          type: 'array',
          maxItems: 1000,
          items: {
            anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^@[A-Za-z0-9_]{1,64}$' }],
          },
          description: 'Chat ids (or @channel names) the tenant may write to with the platform Telegram bot.',
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      description: "The tenant's limits; each absent one takes the operator's default.",
      properties: {
        runsInFlight: {
          type: 'integer',
          minimum: 1,
          maximum: 1_000_000,
          description:
            'Runs queued or running at once (`ATLAS_TENANT_RUNS_IN_FLIGHT` by default); the rest wait, queued.',
        },
        requestsPerSecond: {
          type: 'integer',
          minimum: 0,
          maximum: 1_000_000,
          description:
            'API requests per second before 429 (`ATLAS_TENANT_REQUEST_RATE` by default; 0: no limit).',
        },
      },
    },
    kb: {
      type: 'object',
      additionalProperties: false,
      properties: {
        embeddings: {
          type: 'object',
          additionalProperties: false,
          required: ['model'],
          description:
            "The knowledge base's embeddings model; without it, documents are searched by full text only.",
          properties: {
            model: { type: 'string', minLength: 1, maxLength: 200, examples: ['text-embedding-3-small'] },
            dimensions: { type: 'integer', minimum: 1, maximum: 4096, default: 512 },
            provider: { enum: ['openai', 'deepseek', 'cerebras'], default: 'openai' },
          },
        },
      },
    },
  },
} as const;

/** The tenant's settings; `undefined` when there is no such tenant. */
export async function readTenantSettings(db: Db, tenantId: string): Promise<TenantSettings | undefined> {
  const row = await db('tenants')
    .where({ id: tenantId })
    .first<{ settings: TenantSettings } | undefined>('settings');
  return row === undefined ? undefined : (row.settings ?? {});
}

/** Replaces the tenant's settings; `undefined` when there is no such tenant. */
export async function writeTenantSettings(
  db: Db,
  tenantId: string,
  settings: TenantSettings,
): Promise<TenantSettings | undefined> {
  const rows = await db('tenants')
    .where({ id: tenantId })
    .update({ settings: JSON.stringify(settings), updated_at: db.fn.now() })
    .returning<Array<{ settings: TenantSettings }>>('settings');
  return rows[0]?.settings;
}

const TODAY = `(now() at time zone 'utc')::date`;

/** A tenant's grants and token count, as the hub reads them (a map in tests). */
export interface PlatformStore {
  /** The tenant's admin-only settings (`{}` when none). */
  settings(tenantId: string): Promise<TenantSettings>;
  /** Tokens counted for the tenant today (UTC). */
  tokensToday(tenantId: string): Promise<number>;
  /** Adds tokens to today's count, atomically; returns the new count. */
  addTokens(tenantId: string, tokens: number): Promise<number>;
}

/** Settings from `tenants.settings`, token counts in `platform_token_usage` (one row per tenant and UTC day). */
export function makePgPlatformStore(db: Knex): PlatformStore {
  return {
    async settings(tenantId) {
      return (await readTenantSettings(db, tenantId)) ?? {};
    },
    async tokensToday(tenantId) {
      const row = await db('platform_token_usage')
        .where({ tenant_id: tenantId })
        .andWhereRaw(`day = ${TODAY}`)
        .first<{ tokens: string } | undefined>('tokens');
      return row === undefined ? 0 : Number(row.tokens);
    },
    async addTokens(tenantId, tokens) {
      // One statement: concurrent calls of every worker add up, none is lost.
      const { rows } = await db.raw<{ rows: Array<{ tokens: string }> }>(
        `insert into platform_token_usage (tenant_id, day, tokens) values (?, ${TODAY}, ?)
         on conflict (tenant_id, day) do update
           set tokens = platform_token_usage.tokens + excluded.tokens, updated_at = now()
         returning tokens`,
        [tenantId, tokens],
      );
      return Number(rows[0]!.tokens);
    },
  };
}
