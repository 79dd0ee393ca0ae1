import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { email } from '../../connectors/email/index.ts';
import { msgraph } from '../../connectors/msgraph/index.ts';
import { DELEGATED_TOKEN, type GraphFake, graphError, MS, startGraph } from '../fakes/msgraph.ts';
import { RESEND_KEY, type ResendFake, resendError, startResend } from '../fakes/resend.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectHostileHandled } from './hostile.ts';

let graph: GraphFake;
let resend: ResendFake;
let opts: TestContextOptions;
let graphSettings: Record<string, string>;

beforeAll(async () => {
  [graph, resend] = await Promise.all([startGraph(), startResend()]);
  graphSettings = {
    MS_TENANT_ID: MS.tenant,
    MS_CLIENT_ID: MS.clientId,
    MS_CLIENT_SECRET: MS.clientSecret,
    ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL: graph.url,
    MS_MAIL_SENDER: 'noreply@contoso.com',
  };
  opts = {
    connectors: [msgraph],
    baseUrls: { email: resend.url, msgraph: `${graph.url}/v1.0` },
    settings: { ...graphSettings, RESEND_API_KEY: RESEND_KEY, RESEND_FROM: 'Atlas <noreply@atlas.dev>' },
    tokens: { microsoft: DELEGATED_TOKEN },
    tenantSettings: { mailboxes: ['noreply@contoso.com', 'noreply@atlas.dev'] },
  };
});
afterAll(() => Promise.all([graph.close(), resend.close()]));

const mail = { to: ['ada@example.com'], subject: 'Welcome', html: '<b>Hi</b>' };
const send = (input: unknown, extra: TestContextOptions = {}) =>
  runAction(email, 'send', input, { ...opts, ...extra });

describe('email.send', () => {
  it('sends through Graph when it is configured', async () => {
    const before = resend.emails.length;
    expect(await send(mail)).toEqual({ provider: 'msgraph', degraded: false });
    expect(graph.sent.at(-1)!.payload).toMatchObject({
      message: { subject: 'Welcome', body: { contentType: 'HTML' } },
    });
    expect(resend.emails.length).toBe(before);
  });

  it('uses Resend when Graph is not configured (not degraded)', async () => {
    const settings = { RESEND_API_KEY: RESEND_KEY, RESEND_FROM: 'Atlas <noreply@atlas.dev>' };
    const out = await send({ ...mail, text: 'Hi' }, { settings, idempotencyKey: 'run_9:mail' });
    expect(out).toMatchObject({ provider: 'resend', degraded: false, id: expect.any(String) });
    const req = resend.requests.at(-1)!;
    expect(req.header('idempotency-key')).toBe('run_9:mail');
    expect(req.json()).toEqual({
      from: 'Atlas <noreply@atlas.dev>',
      to: ['ada@example.com'],
      subject: 'Welcome',
      html: '<b>Hi</b>',
      text: 'Hi',
    });
  });

  it('falls back to Resend when Graph fails retryably, and says so', async () => {
    await send(mail);
    graph.enqueue(graphError(503, 'ServiceUnavailable', 'try later', { 'retry-after': '5' }));
    const { ctx, logs } = makeTestContext(email, 'send', { ...opts, input: mail });
    const out = await email.actions[0]!.run(ctx, mail);
    expect(out).toMatchObject({ provider: 'resend', degraded: true, graphError: 'provider_unavailable' });
    expect(logs.some((l) => l.level === 'warn' && l.line.includes('Graph failed'))).toBe(true);
  });

  it('does not fall back on a fatal Graph error', async () => {
    await send(mail);
    graph.enqueue(graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.'));
    await expect(send(mail)).rejects.toMatchObject({
      kind: 'fatal',
      message: expect.stringContaining('ErrorInvalidRecipients'),
    });
  });

  it('rethrows the Graph error when Resend is not configured either', async () => {
    await send(mail);
    graph.enqueue(graphError(429, 'ApplicationThrottled', 'slow', { 'retry-after': '9' }));
    await expect(send(mail, { settings: graphSettings })).rejects.toMatchObject({
      kind: 'retryable',
      retryAfterMs: 9000,
    });
  });

  it('maps Resend 429, invalid key, validation errors and hostile answers', async () => {
    const resendOnly = (extra: TestContextOptions = {}) => send({ ...mail, provider: 'resend' }, extra);
    resend.enqueue(resendError(429, 'rate_limit_exceeded', 'Too many requests.', { 'retry-after': '1' }));
    await expect(resendOnly()).rejects.toMatchObject({
      kind: 'retryable',
      code: 'rate_limited',
      retryAfterMs: 1000,
    });
    const badKey = { settings: { ...opts.settings, RESEND_API_KEY: 're_wrongwrongwrongwrong' } };
    await expect(resendOnly(badKey)).rejects.toMatchObject({ kind: 'auth', code: 'invalid_api_key' });
    resend.enqueue(resendError(401, 'missing_api_key', 'Missing API key'));
    await expect(resendOnly()).rejects.toMatchObject({ kind: 'auth' });
    resend.enqueue(resendError(422, 'validation_error', 'Invalid `to` field.'));
    await expect(resendOnly()).rejects.toMatchObject({ kind: 'fatal', code: 'validation_error' });
    await expectHostileHandled(resend, () => resendOnly());
  });

  it('keeps the Resend key and Graph secrets out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(email, 'send', { ...opts, input: mail });
    await email.actions[0]!.run(ctx, mail);
    await email.actions[0]!.run(ctx, { ...mail, provider: 'resend' });
    const everything = JSON.stringify(audit.entries) + JSON.stringify(logs);
    expect(audit.entries.map((e) => e.connectorId)).toEqual(expect.arrayContaining(['msgraph', 'email']));
    for (const secret of [RESEND_KEY, MS.clientSecret, ...graph.issued])
      expect(everything).not.toContain(secret);
  });
});
