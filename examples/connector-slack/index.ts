/**
 * Slack as an Atlas connector plugin, outside the core: it imports only `atlas-engine/sdk`,
 * and Atlas loads it with ATLAS_CONNECTORS=atlas-connector-slack (or this folder's path).
 */
import { defineConnector } from 'atlas-engine/sdk';
import { mapSlackError } from './lib/errors.ts';
import { postMessage } from './lib/post-message.ts';

export default defineConnector({
  id: 'slack',
  description: 'Post messages to Slack channels with the tenant’s bot token.',
  sdkVersion: '^1.0.0',
  // The tenant's bot token (xoxb-...), set with PUT /v1/secrets/SLACK_BOT_TOKEN.
  auth: { type: 'secret', secrets: ['SLACK_BOT_TOKEN'] },
  // ATLAS_CONNECTOR_SLACK_BASE_URL overrides it (a proxy, or a fake in tests).
  baseUrl: 'https://slack.com/api',
  // chat.postMessage allows about one message per second per channel (Slack's "special" tier).
  rateLimits: [{ limit: 1, windowMs: 1000, key: 'channel:{{ channel }}', actions: ['chat.postMessage'] }],
  mapError: mapSlackError,
  actions: [postMessage],
});
