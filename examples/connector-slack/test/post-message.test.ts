// The plugin's own tests, with Atlas's connector test kit: `npm test` in this folder.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeServer, json, runAction, startFakeProvider } from 'atlas-engine/sdk/testing';
import slack from '../index.ts';

const TOKEN = 'xoxb-test-token';
let api: FakeServer;

before(async () => {
  // Slack answers 200 for its errors too, with `ok: false` and a code.
  api = await startFakeProvider((req) => {
    if (req.header('authorization') !== `Bearer ${TOKEN}`)
      return json(200, { ok: false, error: 'invalid_auth' });
    const body = req.json() as { channel: string };
    if (body.channel !== 'C0OPS0001') return json(200, { ok: false, error: 'channel_not_found' });
    return json(200, { ok: true, channel: body.channel, ts: '1712345678.000100' });
  });
});
after(() => api.close());

const options = (token = TOKEN) => ({ baseUrl: api.url, secrets: { SLACK_BOT_TOKEN: token } });

test('posts a message with the bot token from the tenant secret', async () => {
  const run = await runAction(
    slack,
    'chat.postMessage',
    { channel: 'C0OPS0001', text: 'Deploy done' },
    options(),
  );
  assert.equal(run.ok, true, JSON.stringify(run.error));
  assert.deepEqual(run.output, { channel: 'C0OPS0001', ts: '1712345678.000100' });
  const sent = api.requests.at(-1);
  assert.equal(sent?.path, '/chat.postMessage');
  assert.deepEqual(sent?.json(), { channel: 'C0OPS0001', text: 'Deploy done' });
});

test('ok: false is a fatal error with Slack’s code', async () => {
  const run = await runAction(slack, 'chat.postMessage', { channel: 'C0NOPE', text: 'x' }, options());
  assert.equal(run.error?.kind, 'fatal');
  assert.equal(run.error?.code, 'channel_not_found');
  assert.equal(run.attempts.length, 1);
});

test('invalid_auth is an auth error', async () => {
  const run = await runAction(
    slack,
    'chat.postMessage',
    { channel: 'C0OPS0001', text: 'x' },
    options('xoxb-bad'),
  );
  assert.equal(run.error?.kind, 'auth');
  assert.equal(run.error?.code, 'invalid_auth');
});

test('a 429 waits for its Retry-After, then posts', async () => {
  api.enqueue(json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' }));
  const run = await runAction(slack, 'chat.postMessage', { channel: 'C0OPS0001', text: 'again' }, options());
  assert.equal(run.ok, true);
  assert.equal(run.attempts[0]?.error?.code, 'ratelimited');
  assert.ok((run.attempts[0]?.retryInMs ?? 0) >= 1000);
});
