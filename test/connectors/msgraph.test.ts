import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgraph } from '../../connectors/msgraph/index.ts';
import { DELEGATED_TOKEN, type GraphFake, graphError, MS, startGraph } from '../fakes/msgraph.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectConnectorError, expectHostileHandled } from './hostile.ts';

let fake: GraphFake;
let opts: TestContextOptions;
beforeAll(async () => {
  fake = await startGraph();
  opts = {
    baseUrl: `${fake.url}/v1.0`,
    settings: {
      MS_TENANT_ID: MS.tenant,
      MS_CLIENT_ID: MS.clientId,
      MS_CLIENT_SECRET: MS.clientSecret,
      ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL: fake.url,
      MS_MAIL_SENDER: 'noreply@contoso.com',
      ATLAS_CONNECTOR_MSGRAPH_TEAMS_WEBHOOK_HOSTS: '127.0.0.1',
    },
    tokens: { microsoft: DELEGATED_TOKEN },
    tenantSettings: { mailboxes: ['noreply@contoso.com', 'nobody@contoso.com'] },
  };
});
afterAll(() => fake.close());

const mail = { to: ['ada@example.com'], subject: 'Hello', body: '<p>Hi</p>' };
const run = (action: string, input: unknown, extra: TestContextOptions = {}) =>
  runAction(msgraph, action, input, { ...opts, ...extra });

describe('msgraph.outlook.sendMail', () => {
  it('gets an app token once, caches it, and sends (202, no body)', async () => {
    const tokensBefore = fake.issued.length;
    expect(await run('outlook.sendMail', mail)).toEqual({ accepted: true, from: 'noreply@contoso.com' });
    await run('outlook.sendMail', { ...mail, cc: ['b@example.com'], contentType: 'Text' });
    expect(fake.issued.length - tokensBefore).toBeLessThanOrEqual(1);
    const last = fake.sent.at(-1)!;
    expect(last.mailbox).toBe('noreply@contoso.com');
    expect(last.payload).toEqual({
      message: {
        subject: 'Hello',
        body: { contentType: 'Text', content: '<p>Hi</p>' },
        toRecipients: [{ emailAddress: { address: 'ada@example.com' } }],
        ccRecipients: [{ emailAddress: { address: 'b@example.com' } }],
      },
      saveToSentItems: true,
    });
    const tokenCall = fake.requests.find((r) => r.path.endsWith('/oauth2/v2.0/token'))!;
    expect(Object.fromEntries(new URLSearchParams(tokenCall.text()))).toMatchObject({
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
  });

  it('maps Graph throttling (429 + Retry-After) to retryable', async () => {
    await run('outlook.sendMail', mail);
    fake.enqueue(
      graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', {
        'retry-after': '12',
      }),
    );
    const err = await expectConnectorError(run('outlook.sendMail', mail));
    expect(err).toMatchObject({ kind: 'retryable', retryAfterMs: 12_000, status: 429 });
    expect(err.message).toContain('ApplicationThrottled');
  });

  it('maps a rejected token to auth and drops it from the cache', async () => {
    await run('outlook.sendMail', mail);
    const before = fake.issued.length;
    fake.enqueue(
      graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'),
    );
    await expect(run('outlook.sendMail', mail)).rejects.toMatchObject({ kind: 'auth', status: 401 });
    await run('outlook.sendMail', mail);
    expect(fake.issued.length).toBe(before + 1);
  });

  it('maps a bad client secret at the token endpoint to auth', async () => {
    const settings = { ...opts.settings, MS_CLIENT_SECRET: 'wrong-secret-value' };
    const err = await expectConnectorError(run('outlook.sendMail', mail, { settings }));
    expect(err).toMatchObject({ kind: 'auth', code: 'invalid_client' });
    expect(err.message).toContain('AADSTS7000215');
    expect(err.message).not.toContain('Trace ID');
  });

  it('is not_configured without platform credentials', async () => {
    await expect(run('outlook.sendMail', mail, { settings: {} })).rejects.toMatchObject({
      code: 'not_configured',
    });
  });

  it('survives hostile token answers', async () => {
    // A fresh client secret means a fresh cache entry, so the token endpoint is called.
    let n = 0;
    await expectHostileHandled(fake, () => {
      n += 1;
      return run('outlook.sendMail', mail, {
        settings: { ...opts.settings, MS_CLIENT_SECRET: `${MS.clientSecret}-${n}` },
      });
    });
  });
});

describe('msgraph.outlook.listMessages', () => {
  it('lists newest first with a selection and a next link', async () => {
    const out = await run('outlook.listMessages', { folder: 'inbox', top: 5, unreadOnly: true });
    expect(out).toMatchObject({
      messages: [{ id: 'AAMkAD1', subject: 'Invoice 42', from: 'ada@example.com', isRead: false }],
      nextLink: expect.stringContaining('$skip=1'),
    });
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe('/v1.0/users/noreply@contoso.com/mailFolders/inbox/messages');
    expect(Object.fromEntries(req.query)).toMatchObject({
      $top: '5',
      $orderby: 'receivedDateTime desc',
      $filter: '(isRead eq false)',
    });
  });

  it('maps 404, 429, 401 and hostile answers', async () => {
    await expect(run('outlook.listMessages', { mailbox: 'nobody@contoso.com' })).rejects.toMatchObject({
      kind: 'fatal',
      code: 'not_found',
      message: expect.stringContaining('ErrorInvalidUser'),
    });
    fake.enqueue(graphError(429, 'TooManyRequests', 'slow down', { 'retry-after': '3' }));
    await expect(run('outlook.listMessages', {})).rejects.toMatchObject({
      kind: 'retryable',
      retryAfterMs: 3000,
    });
    fake.enqueue(graphError(401, 'InvalidAuthenticationToken', 'expired'));
    await expect(run('outlook.listMessages', {})).rejects.toMatchObject({ kind: 'auth' });
    await expectHostileHandled(fake, () => run('outlook.listMessages', {}), [
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"value":[{"subject":"no id"}]}',
      },
    ]);
  });
});

describe('msgraph.teams.postMessage', () => {
  it('posts through Graph with the delegated token', async () => {
    const out = await run('teams.postMessage', {
      teamId: 'team-1',
      channelId: '19:abc@thread.tacv2',
      text: 'Deploy done',
    });
    expect(out).toMatchObject({ via: 'graph', messageId: '1616990032035' });
    expect(fake.requests.at(-1)!.json()).toEqual({ body: { contentType: 'text', content: 'Deploy done' } });
  });

  it('posts an Adaptive Card to a Workflows URL kept as a secret', async () => {
    const secrets = { TEAMS_FLOW: `${fake.url}/workflows/abc?sig=s3cr3tSig` };
    const { ctx, audit } = makeTestContext(msgraph, 'teams.postMessage', { ...opts, secrets });
    const action = msgraph.actions.find((a) => a.id === 'teams.postMessage')!;
    expect(await action.run(ctx, { workflowUrlSecret: 'TEAMS_FLOW', text: 'Hi team' })).toEqual({
      via: 'workflow',
    });
    expect(fake.workflowPosts.at(-1)).toMatchObject({
      type: 'message',
      attachments: [{ content: { type: 'AdaptiveCard', body: [{ text: 'Hi team' }] } }],
    });
    expect(JSON.stringify(audit.entries)).not.toContain('s3cr3tSig');
  });

  it('refuses a Workflows URL on another host', async () => {
    const secrets = { TEAMS_FLOW: 'https://evil.example.com/hook' };
    await expect(
      run('teams.postMessage', { workflowUrlSecret: 'TEAMS_FLOW', text: 'x' }, { secrets }),
    ).rejects.toMatchObject({
      code: 'invalid_secret',
    });
  });

  it('maps 401, 429 and hostile answers', async () => {
    const input = { teamId: 't', channelId: 'c', text: 'x' };
    await expect(run('teams.postMessage', input, { tokens: { microsoft: 'stale' } })).rejects.toMatchObject({
      kind: 'auth',
    });
    fake.enqueue(graphError(429, 'TooManyRequests', 'throttled', { 'retry-after': '2' }));
    await expect(run('teams.postMessage', input)).rejects.toMatchObject({
      kind: 'retryable',
      retryAfterMs: 2000,
    });
    await expectHostileHandled(fake, () => run('teams.postMessage', input));
  });
});

describe('msgraph secrets', () => {
  it('keeps the client secret and tokens out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(msgraph, 'outlook.sendMail', {
      ...opts,
      settings: { ...opts.settings, MS_CLIENT_SECRET: MS.clientSecret },
    });
    await msgraph.actions[0]!.run(ctx, mail);
    const everything = JSON.stringify(audit.entries) + JSON.stringify(logs);
    expect(everything).not.toContain(MS.clientSecret);
    for (const token of fake.issued) expect(everything).not.toContain(token);
  });
});
