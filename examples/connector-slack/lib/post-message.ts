import { defineAction, expectRecord, expectString } from 'atlas-engine/sdk';
import { slackError } from './errors.ts';

interface Input {
  channel: string;
  text: string;
  thread_ts?: string;
  blocks?: unknown[];
}

interface Output {
  channel: string;
  ts: string;
}

export const postMessage = defineAction<Input, Output>({
  id: 'chat.postMessage',
  description: 'Post a message to a Slack channel (or a thread) as the tenant’s bot.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['channel', 'text'],
    properties: {
      channel: { type: 'string', minLength: 1, description: 'A channel id (C0123ABC) or name (#ops).' },
      text: {
        type: 'string',
        minLength: 1,
        maxLength: 40000,
        description: 'The message (mrkdwn); with blocks, the notification fallback.',
      },
      thread_ts: { type: 'string', description: 'Reply in the thread of this message ts.' },
      blocks: { type: 'array', items: { type: 'object' }, description: 'Block Kit blocks.' },
    },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['channel', 'ts'],
    properties: {
      channel: { type: 'string', description: 'The channel id it was posted to.' },
      ts: { type: 'string', description: 'The message timestamp: its id in the channel.' },
    },
  },
  example: { channel: 'C0123ABC', ts: '1712345678.000100' },
  async run(ctx, input) {
    // The hub adds the tenant's bot token: this code never holds it.
    const res = await ctx.http.request({
      method: 'POST',
      url: '/chat.postMessage',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      json: input,
      auth: { bearer: 'SLACK_BOT_TOKEN' },
    });
    const body = expectRecord(res.json(), 'the chat.postMessage answer');
    if (body['ok'] !== true) throw slackError(String(body['error'] ?? 'unknown_error'), 'chat.postMessage');
    const what = 'the chat.postMessage answer';
    return { channel: expectString(body, 'channel', what), ts: expectString(body, 'ts', what) };
  },
});
