import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegram } from '../../connectors/telegram/index.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram, telegramError, telegramFloodWait } from '../fakes/telegram.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectConnectorError, expectHostileHandled } from './hostile.ts';

let fake: FakeServer;
let opts: TestContextOptions;
beforeAll(async () => {
  fake = await startTelegram();
  opts = {
    baseUrl: fake.url,
    settings: { TELEGRAM_BOT_TOKEN: BOT_TOKEN },
    tenantSettings: { telegram: { chats: [1, 5, 9, 42, 404] } },
  };
});
afterAll(() => fake.close());

const send = (input: unknown, extra: TestContextOptions = {}) =>
  runAction(telegram, 'sendMessage', input, { ...opts, ...extra });

describe('telegram.sendMessage', () => {
  it('sends to the Bot API with the platform token', async () => {
    const out = await send({ chat_id: 42, text: 'hello', parse_mode: 'HTML', reply_to_message_id: 7 });
    expect(out).toMatchObject({ chat_id: 42, date: 1735689600 });
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe(`/bot${BOT_TOKEN}/sendMessage`);
    expect(req.json()).toEqual({
      chat_id: 42,
      text: 'hello',
      parse_mode: 'HTML',
      reply_parameters: { message_id: 7 },
    });
  });

  it('writes with the platform bot only to the chats assigned to the tenant', async () => {
    const before = fake.requests.length;
    for (const chat_id of [7, '@other_channel', '42 ']) {
      await expect(send({ chat_id, text: 'x' })).rejects.toMatchObject({
        kind: 'fatal',
        code: 'chat_not_assigned',
      });
    }
    await expect(
      runAction(telegram, 'sendDocument', { chat_id: 7, document: { file_id: 'x' } }, opts),
    ).rejects.toMatchObject({ code: 'chat_not_assigned' });
    await expect(
      runAction(telegram, 'setWebhook', { url: 'https://attacker.example/hook' }, opts),
    ).rejects.toMatchObject({ kind: 'fatal', code: 'platform_bot_refused' });
    expect(fake.requests.length).toBe(before);
    // With its own bot, a tenant writes wherever that bot may.
    const own = { secrets: { TELEGRAM_BOT_TOKEN: BOT_TOKEN } };
    await expect(send({ chat_id: 7, text: 'x' }, own)).resolves.toMatchObject({ chat_id: 7 });
  });

  it('prefers the tenant’s own bot token', async () => {
    await expect(
      send({ chat_id: 1, text: 'x' }, { secrets: { TELEGRAM_BOT_TOKEN: '987654321:other' } }),
    ).rejects.toMatchObject({
      kind: 'auth',
    });
  });

  it('checks the 1-4096 length before sending', async () => {
    const before = fake.requests.length;
    await expect(send({ chat_id: 1, text: 'x'.repeat(4097) })).rejects.toMatchObject({
      code: 'text_too_long',
      kind: 'fatal',
    });
    await expect(send({ chat_id: 1, text: '' })).rejects.toMatchObject({ code: 'text_empty', kind: 'fatal' });
    expect(fake.requests.length).toBe(before);
    await expect(send({ chat_id: 1, text: '😀'.repeat(2048) })).resolves.toBeDefined();
  });

  it('maps flood control to retryable with parameters.retry_after', async () => {
    fake.enqueue(telegramFloodWait(17));
    const err = await expectConnectorError(send({ chat_id: 1, text: 'x' }));
    expect(err).toMatchObject({ kind: 'retryable', code: 'rate_limited', retryAfterMs: 17_000, status: 429 });
  });

  it('maps an invalid token to auth', async () => {
    const err = await expectConnectorError(
      send({ chat_id: 1, text: 'x' }, { settings: { TELEGRAM_BOT_TOKEN: '1:bad' } }),
    );
    expect(err).toMatchObject({ kind: 'auth', status: 401 });
    await expect(send({ chat_id: 1, text: 'x' }, { settings: {} })).rejects.toMatchObject({
      code: 'token_missing',
    });
  });

  it('maps Bot API error bodies', async () => {
    await expect(send({ chat_id: 404, text: 'x' })).rejects.toMatchObject({
      kind: 'fatal',
      message: expect.stringContaining('chat not found'),
    });
    fake.enqueue(telegramError(403, 'Forbidden: bot was blocked by the user'));
    await expect(send({ chat_id: 1, text: 'x' })).rejects.toMatchObject({
      kind: 'fatal',
      code: 'bot_forbidden',
    });
    fake.enqueue(
      telegramError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
        migrate_to_chat_id: -1001,
      }),
    );
    await expect(send({ chat_id: 1, text: 'x' })).rejects.toMatchObject({ code: 'chat_migrated' });
  });

  it('survives hostile answers', async () => {
    await expectHostileHandled(fake, () => send({ chat_id: 1, text: 'x' }), [
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":false}' },
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"ok":true,"result":{"message_id":"x"}}',
      },
    ]);
  });

  it('keeps the bot token out of audit entries, errors and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(telegram, 'sendMessage', opts);
    await telegram.actions[0]!.run(ctx, { chat_id: 5, text: 'hi' });
    fake.enqueue(telegramError(400, `Bad Request: token ${BOT_TOKEN} is odd`));
    const err = await expectConnectorError(telegram.actions[0]!.run(ctx, { chat_id: 5, text: 'hi' }));
    const everything = JSON.stringify(audit.entries) + JSON.stringify(logs) + err.message;
    expect(audit.entries).toHaveLength(2);
    expect(everything).not.toContain(BOT_TOKEN.split(':')[1]);
    expect(audit.entries[0]!.path).toBe('/bot[REDACTED]/sendMessage');
  });
});

describe('telegram.sendDocument', () => {
  it('uploads bytes as multipart', async () => {
    const out = await runAction(
      telegram,
      'sendDocument',
      {
        chat_id: 9,
        caption: 'report',
        document: { content_base64: Buffer.from('%PDF-1.7').toString('base64'), filename: 'r.pdf' },
      },
      opts,
    );
    expect(out).toMatchObject({ chat_id: 9, file_id: 'BQACAgIAAxkBAAIB' });
    const req = fake.requests.at(-1)!;
    expect(req.header('content-type')).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.text()).toContain('filename="r.pdf"');
    expect(req.text()).toContain('%PDF-1.7');
  });

  it('sends a URL or file_id as JSON', async () => {
    await runAction(
      telegram,
      'sendDocument',
      { chat_id: 9, document: { url: 'https://example.com/a.pdf' } },
      opts,
    );
    expect(fake.requests.at(-1)!.json()).toEqual({ chat_id: 9, document: 'https://example.com/a.pdf' });
    await runAction(telegram, 'sendDocument', { chat_id: 9, document: { file_id: 'BQAC' } }, opts);
    expect(fake.requests.at(-1)!.json()).toEqual({ chat_id: 9, document: 'BQAC' });
  });

  it('maps 429, 401 and hostile answers', async () => {
    const run = (extra: TestContextOptions = {}) =>
      runAction(telegram, 'sendDocument', { chat_id: 9, document: { file_id: 'x' } }, { ...opts, ...extra });
    fake.enqueue(telegramFloodWait(3));
    await expect(run()).rejects.toMatchObject({ kind: 'retryable', retryAfterMs: 3000 });
    await expect(run({ settings: { TELEGRAM_BOT_TOKEN: '1:bad' } })).rejects.toMatchObject({ kind: 'auth' });
    await expect(run({ settings: { TELEGRAM_BOT_TOKEN: BOT_TOKEN }, secrets: {} })).resolves.toBeDefined();
    await expectHostileHandled(fake, () => run());
  });
});

describe('telegram.setWebhook', () => {
  // The platform bot's webhook is the operator's: setWebhook needs the tenant's own bot.
  const own = { TELEGRAM_BOT_TOKEN: BOT_TOKEN };
  it('sends the secret token from the tenant secret', async () => {
    const out = await runAction(
      telegram,
      'setWebhook',
      { url: 'https://hooks.example.com/telegram', secret_token: 'TG_SECRET', drop_pending_updates: true },
      { ...opts, secrets: { ...own, TG_SECRET: 'Abc_123-xyz' } },
    );
    expect(out).toEqual({ ok: true, description: 'Webhook was set' });
    expect(fake.requests.at(-1)!.json()).toMatchObject({
      secret_token: 'Abc_123-xyz',
      drop_pending_updates: true,
    });
  });

  it('refuses a secret token Telegram would reject, and maps 429/401/hostile', async () => {
    const input = { url: 'https://hooks.example.com/telegram', secret_token: 'TG_SECRET' };
    await expect(
      runAction(telegram, 'setWebhook', input, { ...opts, secrets: { ...own, TG_SECRET: 'has spaces!' } }),
    ).rejects.toMatchObject({ code: 'invalid_secret' });
    const run = (extra: TestContextOptions = {}) =>
      runAction(
        telegram,
        'setWebhook',
        { url: 'https://hooks.example.com/t' },
        { ...opts, secrets: own, ...extra },
      );
    fake.enqueue(telegramFloodWait(1));
    await expect(run()).rejects.toMatchObject({ kind: 'retryable', retryAfterMs: 1000 });
    await expect(run({ secrets: { TELEGRAM_BOT_TOKEN: '1:bad' } })).rejects.toMatchObject({ kind: 'auth' });
    await expectHostileHandled(fake, () => run());
  });
});
