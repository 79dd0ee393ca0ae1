/**
 * A tenant's notification settings: where messages go (a Telegram chat, email addresses, a
 * webhook endpoint signed with one of its secrets) and which events it wants. The route
 * validates the document against {@link notificationSettingsSchema}; the notifier reads it
 * when it sends, so a change applies to the next message.
 */
import { SECRET_NAME } from '../secrets/store.ts';

export const NOTIFICATION_EVENTS = [
  'run.failed',
  'job.failed',
  'integration.disconnected',
  'quota.warning',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export interface NotificationChannels {
  telegram?: { chatId: number | string };
  email?: { to: string[] };
  webhook?: { url: string; secret: string };
}

export interface NotificationSettings {
  channels: NotificationChannels;
  events: NotificationEvent[];
}

const channelsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Where notifications go; no channel, no notification.',
  properties: {
    telegram: {
      type: 'object',
      additionalProperties: false,
      required: ['chatId'],
      description:
        "A chat the tenant's own bot (secret TELEGRAM_BOT_TOKEN) can write to, or one the operator assigned for the platform bot.",
      properties: {
        chatId: {
          description: 'The chat id (a number) or a public channel `@username`.',
          anyOf: [
            { type: 'integer' },
            { type: 'string', pattern: '^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$' },
          ],
        },
      },
    },
    email: {
      type: 'object',
      additionalProperties: false,
      required: ['to'],
      description: 'Sent as `EMAIL_SEND` jobs, from the sender the tenant may use.',
      properties: {
        to: {
          type: 'array',
          minItems: 1,
          maxItems: 10,
          uniqueItems: true,
          items: { type: 'string', format: 'email', maxLength: 254 },
        },
      },
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'secret'],
      description: 'Sent as `WEBHOOK_SEND` jobs (Standard Webhooks), signed with the named tenant secret.',
      properties: {
        url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 },
        secret: {
          type: 'string',
          pattern: SECRET_NAME.source,
          description: 'Name of the tenant secret holding the `whsec_` key.',
        },
      },
    },
  },
};

/** The document of `PUT /v1/notifications`. */
export const notificationSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channels'],
  properties: {
    channels: channelsSchema,
    events: {
      type: 'array',
      uniqueItems: true,
      items: { enum: [...NOTIFICATION_EVENTS] },
      description: 'The events to notify; all of them when left out.',
    },
  },
};

/** What `GET /v1/notifications` answers. */
export const notificationSettingsView = {
  type: 'object',
  required: ['channels', 'events'],
  properties: {
    channels: channelsSchema,
    events: { type: 'array', items: { enum: [...NOTIFICATION_EVENTS] } },
    updatedAt: { type: 'string', format: 'date-time' },
    updatedBy: { type: 'string' },
  },
};

/** A validated request body, with the events defaulted. */
export function settingsFrom(body: {
  channels: NotificationChannels;
  events?: NotificationEvent[];
}): NotificationSettings {
  return { channels: body.channels, events: body.events ?? [...NOTIFICATION_EVENTS] };
}
