/**
 * A tenant's notification settings: `GET` and `PUT /v1/notifications` (the whole document).
 * The webhook channel must name a secret the tenant has set, so a typo is refused now rather
 * than found when the first notification fails.
 */
import { getNotificationSettings, putNotificationSettings } from '../../db/notifications.ts';
import { withTenant } from '../../db/rls.ts';
import {
  NOTIFICATION_EVENTS,
  type NotificationChannels,
  type NotificationEvent,
  notificationSettingsSchema,
  notificationSettingsView,
  settingsFrom,
} from '../../notify/index.ts';
import { problem } from '../../problem.ts';
import { principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import type { RouteDeps } from './deps.ts';

type Body = { channels: NotificationChannels; events?: NotificationEvent[] };

function view(row: Awaited<ReturnType<typeof getNotificationSettings>>) {
  if (!row) return { channels: {}, events: [...NOTIFICATION_EVENTS] };
  return {
    channels: row.channels,
    events: row.events,
    updatedAt: row.updated_at.toISOString(),
    ...(row.updated_by ? { updatedBy: row.updated_by } : {}),
  };
}

export function notificationRoutes({ db, secrets }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/notifications',
      operationId: 'getNotifications',
      summary: "The tenant's notification channels and events",
      tag: 'notifications',
      scope: 'tenant',
      responses: {
        200: { description: 'The settings (no channel until set).', schema: notificationSettingsView },
      },
      async handler(ctx) {
        const tenantId = tenantOf(ctx);
        ctx.body = view(await withTenant(db, tenantId, (trx) => getNotificationSettings(trx, tenantId)));
      },
    }),
    defineRoute<Record<string, string>, Record<string, never>, Body>({
      method: 'PUT',
      path: '/v1/notifications',
      operationId: 'putNotifications',
      summary: "Replace the tenant's notification channels and events",
      description:
        'Atlas notifies a failed run, a typed job that failed for good, a disconnected integration ' +
        '(with a link that reconnects it) and a quota above 90%, at most once per workflow (job type, ' +
        'provider, quota) and kind every 15 minutes; what comes meanwhile is sent as one digest.',
      tag: 'notifications',
      scope: 'tenant',
      body: notificationSettingsSchema,
      audit: { action: 'notifications.update', entityType: 'notifications' },
      responses: { 200: { description: 'The settings as stored.', schema: notificationSettingsView } },
      async handler(ctx, { body }) {
        const tenantId = tenantOf(ctx);
        const settings = settingsFrom(body);
        const hook = settings.channels.webhook;
        if (hook && secrets && (await secrets.get(tenantId, hook.secret)) === undefined)
          throw problem.unprocessable(
            `channels.webhook.secret: the tenant secret "${hook.secret}" is not set; store the whsec_ key with PUT /v1/secrets/${hook.secret} first.`,
          );
        const row = await auditedTransaction(
          ctx,
          db,
          200,
          (trx) =>
            putNotificationSettings(
              trx,
              tenantId,
              { channels: settings.channels as Record<string, unknown>, events: settings.events },
              principalOf(ctx).sub,
            ),
          () => tenantId,
        );
        ctx.body = view(row);
      },
    }),
  ] as AnyRoute[];
}
