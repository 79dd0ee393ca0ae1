/**
 * A fake Slack Web API: `POST /chat.postMessage` with `Authorization: Bearer <bot token>` and a
 * JSON body, answering as Slack does: HTTP 200 with `{ ok: true, channel, ts, message }`, or
 * HTTP 200 with `{ ok: false, error }` (`invalid_auth`, `channel_not_found`, `no_text`).
 * Rate limits are scripted with `enqueue(slackRateLimited(n))`: HTTP 429 with `Retry-After`.
 */
import { type FakeReply, type FakeServer, json, startFake } from './server.ts';

export const SLACK_BOT_TOKEN = 'xoxb-1234-5678-fakeSlackBotTokenForAtlas';

export interface SlackFake extends FakeServer {
  /** Messages posted, by channel id. */
  posted: Array<{ channel: string; text: string; thread_ts?: string }>;
}

export const slackRateLimited = (seconds: number): FakeReply =>
  json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(seconds) });

const CHANNELS: Record<string, string> = { '#ops': 'C0OPS0001', C0OPS0001: 'C0OPS0001' };

export async function startSlack(): Promise<SlackFake> {
  const posted: SlackFake['posted'] = [];
  let seq = 100;
  const server = await startFake((req) => {
    if (req.method !== 'POST' || req.path !== '/chat.postMessage')
      return json(404, { ok: false, error: 'unknown_method' });
    if (req.header('authorization') !== `Bearer ${SLACK_BOT_TOKEN}`)
      return json(200, { ok: false, error: req.header('authorization') ? 'invalid_auth' : 'not_authed' });
    const body = req.json() as { channel?: string; text?: string; thread_ts?: string };
    const channel = CHANNELS[body.channel ?? ''];
    if (!channel) return json(200, { ok: false, error: 'channel_not_found' });
    if (!body.text) return json(200, { ok: false, error: 'no_text' });
    const ts = `1712345678.000${seq++}`;
    posted.push({ channel, text: body.text, ...(body.thread_ts ? { thread_ts: body.thread_ts } : {}) });
    return json(200, {
      ok: true,
      channel,
      ts,
      message: { type: 'message', subtype: 'bot_message', text: body.text, ts, bot_id: 'B0ATLAS01' },
    });
  });
  return { ...server, posted };
}
