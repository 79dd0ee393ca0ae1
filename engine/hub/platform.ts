/**
 * The operator's grants to one tenant, as an action sees them (`ctx.platform`): its admin-only
 * settings, and its daily token budget on platform LLM keys. The store is PostgreSQL in the
 * engine (engine/db/tenant-settings.ts), a map in tests.
 */
import { ConnectorError, type PlatformAccess, type TenantSettings } from '../connector-sdk/index.ts';
import type { PlatformStore } from '../db/tenant-settings.ts';

export type { PlatformStore };

export function makePlatformAccess(
  store: PlatformStore,
  tenantId: string,
  connectorId: string,
): PlatformAccess {
  let settings: Promise<TenantSettings> | undefined;
  const read = () => {
    settings ??= store.settings(tenantId);
    return settings;
  };
  return {
    settings: read,
    async checkTokens() {
      const budget = (await read()).llm?.tokensPerDay;
      if (typeof budget !== 'number' || budget <= 0)
        throw ConnectorError.fatal(
          'budget_exceeded',
          `${connectorId}: the operator assigned this tenant no budget on the platform's LLM key (tenant settings "llm.tokensPerDay"); store a key of its own as a tenant secret`,
        );
      const used = await store.tokensToday(tenantId);
      if (used >= budget)
        throw ConnectorError.fatal(
          'budget_exceeded',
          `${connectorId}: this tenant has used ${used} of its ${budget} tokens for today on the platform's LLM key; the budget renews at 00:00 UTC`,
        );
    },
    async spendTokens(tokens) {
      if (Number.isFinite(tokens) && tokens > 0) await store.addTokens(tenantId, Math.ceil(tokens));
    },
  };
}

/** Settings and token counts in memory, for tests without a database. */
export class MemoryPlatformStore implements PlatformStore {
  readonly used = new Map<string, number>();
  constructor(readonly byTenant: Record<string, TenantSettings> = {}) {}
  async settings(tenantId: string): Promise<TenantSettings> {
    return this.byTenant[tenantId] ?? {};
  }
  async tokensToday(tenantId: string): Promise<number> {
    return this.used.get(tenantId) ?? 0;
  }
  async addTokens(tenantId: string, tokens: number): Promise<number> {
    const total = (this.used.get(tenantId) ?? 0) + tokens;
    this.used.set(tenantId, total);
    return total;
  }
}
