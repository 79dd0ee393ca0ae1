/**
 * Notifications: a tenant's channels and events (settings.ts), the calls that record an event
 * where it happens (record.ts), and the notifier that sends them as typed jobs, throttled and
 * folded into digests (notifier.ts). See README "Notifications".
 */
import type { Knex } from 'knex';
import type { PlatformStore } from '../db/tenant-settings.ts';
import { notifyQuota } from './record.ts';

export { compose, type Message } from './messages.ts';
export { NOTIFY_WINDOW_MS, Notifier, type NotifierDeps } from './notifier.ts';
export {
  NOTIFY_ACTOR,
  notifyDisconnected,
  notifyJobFailed,
  notifyQuota,
  notifyRunFailed,
  QUOTA_WARNING_SHARE,
} from './record.ts';
export * from './settings.ts';

/**
 * The platform store, warning when a tenant's platform LLM tokens of the day cross 90% of its
 * budget: the count is added in one statement, so exactly one call crosses.
 */
export function warnOnTokenBudget(store: PlatformStore, db: Knex): PlatformStore {
  return {
    ...store,
    async addTokens(tenantId, tokens) {
      const total = await store.addTokens(tenantId, tokens);
      const budget = (await store.settings(tenantId)).llm?.tokensPerDay;
      if (typeof budget === 'number')
        await notifyQuota(db, tenantId, [
          { quota: 'llm.tokensPerDay', before: total - tokens, after: total, limit: budget },
        ]);
      return total;
    },
  };
}
