import { defineConnector } from 'atlas-engine/sdk';
import { mapGraphError, SETTINGS } from './client.ts';
import { outlookListMessages } from './lib/actions/outlook-list-messages.ts';
import { outlookSendMail } from './lib/actions/outlook-send-mail.ts';
import { teamsPostMessage } from './lib/actions/teams-post-message.ts';

/** Microsoft Graph: Outlook mail with the platform app, Teams channel messages. */
export const msgraph = defineConnector({
  id: 'msgraph',
  description: 'Send and list Outlook mail (platform app), and post Teams channel messages.',
  auth: { type: 'env', variables: [SETTINGS.tenant, SETTINGS.clientId, SETTINGS.clientSecret] },
  baseUrl: 'https://graph.microsoft.com/v1.0',
  settings: Object.values(SETTINGS),
  // Outlook's documented limit: 10,000 requests per 10 minutes per app and mailbox
  // (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits).
  rateLimits: [
    {
      limit: 10_000,
      windowMs: 600_000,
      key: 'mailbox:{{ from }}{{ mailbox }}',
      actions: ['outlook.sendMail', 'outlook.listMessages'],
    },
  ],
  mapError: mapGraphError,
  actions: [outlookSendMail, outlookListMessages, teamsPostMessage],
});
