import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, defineAction, expectRecord, expectString, optionalString } from 'atlas-engine/sdk';
import { SETTINGS } from '../../client.ts';

export interface PostMessageInput {
  text: string;
  contentType?: 'text' | 'html';
  teamId?: string;
  channelId?: string;
  workflowUrlSecret?: string;
}

export interface PostMessageOutput {
  via: 'graph' | 'workflow';
  messageId?: string;
  webUrl?: string;
}

/**
 * Hosts of Teams Workflows (Power Automate) incoming-webhook URLs. The URL is a tenant secret,
 * so a tenant could point it anywhere; only these hosts (plus the configured extra list) are
 * reached. https://learn.microsoft.com/connectors/teams/#microsoft-teams-webhook
 */
const WORKFLOW_HOST_SUFFIXES = ['.logic.azure.com', '.powerplatform.com', '.powerautomate.com'];

export const teamsPostMessage = defineAction<PostMessageInput, PostMessageOutput>({
  id: 'teams.postMessage',
  description:
    'Post a message to a Teams channel: through Graph with the tenant’s delegated Microsoft token ' +
    '(teamId + channelId), or through a Teams Workflows incoming-webhook URL kept as a tenant secret. ' +
    'Application permissions cannot post channel messages.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: {
      text: { type: 'string', minLength: 1, description: 'Message text (or HTML with contentType html).' },
      contentType: { enum: ['text', 'html'], default: 'text', description: 'Body format (Graph only).' },
      teamId: { type: 'string', description: 'Team id, with channelId, to post through Graph.' },
      channelId: { type: 'string', description: 'Channel id, e.g. `19:...@thread.tacv2`.' },
      workflowUrlSecret: {
        type: 'string',
        description: 'Name of the tenant secret holding a Workflows webhook URL.',
      },
    },
    oneOf: [{ required: ['teamId', 'channelId'] }, { required: ['workflowUrlSecret'] }],
  },
  output: {
    type: 'object',
    required: ['via'],
    properties: {
      via: { enum: ['graph', 'workflow'], description: 'Which path posted the message.' },
      messageId: { type: 'string', description: 'Graph chatMessage id.' },
      webUrl: { type: 'string', description: 'Link to the message in Teams.' },
    },
  },
  async run(ctx, input) {
    if (input.workflowUrlSecret) return postToWorkflow(ctx, input.workflowUrlSecret, input.text);
    if (!input.teamId || !input.channelId) {
      throw ConnectorError.fatal(
        'invalid_input',
        'teams.postMessage needs teamId and channelId, or workflowUrlSecret',
      );
    }
    const token = await ctx.accessToken('microsoft');
    const res = await ctx.http.request({
      method: 'POST',
      url: `/teams/${encodeURIComponent(input.teamId)}/channels/${encodeURIComponent(input.channelId)}/messages`,
      headers: { authorization: `Bearer ${token}` },
      json: { body: { contentType: input.contentType ?? 'text', content: input.text } },
    });
    const msg = expectRecord(res.json(), 'msgraph chatMessage');
    const webUrl = optionalString(msg, 'webUrl');
    return {
      via: 'graph',
      messageId: expectString(msg, 'id', 'msgraph chatMessage'),
      ...(webUrl ? { webUrl } : {}),
    };
  },
});

async function postToWorkflow(
  ctx: ActionContext,
  secretName: string,
  text: string,
): Promise<PostMessageOutput> {
  const raw = await ctx.secret(secretName);
  if (!raw) throw ConnectorError.fatal('secret_missing', `tenant secret "${secretName}" is not set`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw ConnectorError.fatal('invalid_secret', `tenant secret "${secretName}" is not a URL`);
  }
  const extra = (ctx.config.settings[SETTINGS.teamsWebhookHosts] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const allowed =
    extra.includes(url.hostname) ||
    (url.protocol === 'https:' && WORKFLOW_HOST_SUFFIXES.some((s) => url.hostname.endsWith(s)));
  if (!allowed)
    throw ConnectorError.fatal('invalid_secret', 'the Workflows URL is not a Teams Workflows host');
  // Workflows' "post to a channel when a webhook request is received" expects an Adaptive Card
  // message and answers 202 Accepted with an empty body.
  await ctx.http.request({
    method: 'POST',
    url: url.toString(),
    json: {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [{ type: 'TextBlock', text, wrap: true }],
          },
        },
      ],
    },
  });
  return { via: 'workflow' };
}
