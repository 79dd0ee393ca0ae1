import { ConnectorError, defineAction } from 'atlas-engine/sdk';
import { callBot } from '../../client.ts';

export interface SetWebhookInput {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  drop_pending_updates?: boolean;
  max_connections?: number;
}

/** Telegram's rule for `secret_token`: 1-256 characters of A-Z, a-z, 0-9, `_` and `-`. */
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export const setWebhook = defineAction<SetWebhookInput, { ok: true; description: string }>({
  id: 'setWebhook',
  description:
    'Point the bot’s updates at an HTTPS URL; Telegram then sends the secret in X-Telegram-Bot-Api-Secret-Token.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', format: 'uri', description: 'HTTPS URL that receives updates.' },
      secret_token: {
        type: 'string',
        description:
          'Name of the tenant secret whose value Telegram echoes in X-Telegram-Bot-Api-Secret-Token.',
      },
      allowed_updates: { type: 'array', items: { type: 'string' }, description: 'Update types to receive.' },
      drop_pending_updates: {
        type: 'boolean',
        description: 'Discard updates queued while no webhook was set.',
      },
      max_connections: { type: 'integer', minimum: 1, maximum: 100, description: 'Concurrent connections.' },
    },
  },
  output: {
    type: 'object',
    required: ['ok', 'description'],
    properties: {
      ok: { const: true, description: 'The webhook is set.' },
      description: { type: 'string', description: 'Telegram’s confirmation text.' },
    },
  },
  async run(ctx, input) {
    const { secret_token: secretName, ...rest } = input;
    const json: Record<string, unknown> = { ...rest };
    if (secretName !== undefined) {
      const value = await ctx.secret(secretName);
      if (!value) throw ConnectorError.fatal('secret_missing', `tenant secret "${secretName}" is not set`);
      if (!SECRET_TOKEN.test(value)) {
        throw ConnectorError.fatal(
          'invalid_secret',
          'telegram: secret_token must be 1-256 of A-Z a-z 0-9 _ -',
        );
      }
      json['secret_token'] = value;
    }
    const result = await callBot(ctx, 'setWebhook', { json });
    if (result !== true) throw ConnectorError.invalidResponse('telegram setWebhook: result is not true');
    return { ok: true, description: 'Webhook was set' };
  },
});
