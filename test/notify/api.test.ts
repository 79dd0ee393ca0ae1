/**
 * `GET` and `PUT /v1/notifications`: the document round-trips, every change is audited, each
 * tenant sees only its own, and hostile documents get a problem+json naming what is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { problemOf } from '../http/harness.ts';
import { type NotifyHarness, startNotifyHarness } from './harness.ts';

describe('notification settings API', () => {
  const database = useTestDatabase();
  let h: NotifyHarness;
  beforeAll(async () => {
    h = await startNotifyHarness(database);
  });
  afterAll(() => h?.stop());
  const channelsOf = async (tenant: string) =>
    ((await (await h.call(tenant, 'GET', '/v1/notifications')).json()) as { channels: unknown }).channels;

  it('answers no channel and every event before anything is set', async () => {
    const res = await h.call('acme', 'GET', '/v1/notifications');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      channels: {},
      events: ['run.failed', 'job.failed', 'integration.disconnected', 'quota.warning'],
    });
  });

  it('stores the whole document, audits it, and shows it to its tenant only', async () => {
    const doc = {
      channels: {
        telegram: { chatId: -100123 },
        email: { to: ['ops@acme.example'] },
        webhook: { url: 'https://hooks.acme.example/atlas', secret: 'HOOK_SECRET' },
      },
      events: ['run.failed', 'integration.disconnected'],
    };
    const put = await h.call('acme', 'PUT', '/v1/notifications', doc);
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ ...doc, updatedBy: 'acme-user' });
    expect(await (await h.call('acme', 'GET', '/v1/notifications')).json()).toMatchObject(doc);
    expect(await channelsOf('globex')).toEqual({});

    const audit = await database.db('audit_log').where({ tenant_id: 'acme', action: 'notifications.update' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'acme-user', result: 'ok', entity_type: 'notifications' });

    // A replacement drops what it leaves out; events default to all of them.
    const next = await h.call('acme', 'PUT', '/v1/notifications', {
      channels: { telegram: { chatId: '@acme_ops' } },
    });
    expect(await next.json()).toMatchObject({
      channels: { telegram: { chatId: '@acme_ops' } },
      events: ['run.failed', 'job.failed', 'integration.disconnected', 'quota.warning'],
    });
  });

  it.each([
    ['an unknown channel', '/channels/sms', { channels: { sms: { to: '+100' } } }],
    [
      'a chat id that is an object',
      '/channels/telegram/chatId',
      { channels: { telegram: { chatId: { $gt: 0 } } } },
    ],
    [
      'a chat name with spaces',
      '/channels/telegram/chatId',
      { channels: { telegram: { chatId: '@a b c d e' } } },
    ],
    [
      'an address that is not one',
      '/channels/email/to/0',
      { channels: { email: { to: ['not an address'] } } },
    ],
    ['no address', '/channels/email/to', { channels: { email: { to: [] } } }],
    [
      'a javascript: URL',
      '/channels/webhook/url',
      { channels: { webhook: { url: 'javascript:alert(1)', secret: 'HOOK_SECRET' } } },
    ],
    [
      'a secret name with a path',
      '/channels/webhook/secret',
      { channels: { webhook: { url: 'https://x.example', secret: '../KEY' } } },
    ],
    ['an unknown event', '/events/0', { channels: {}, events: ['run.succeeded'] }],
    ['no channels at all', '/channels', { events: ['run.failed'] }],
  ])('refuses %s with a 422 problem naming %s', async (_name, pointer, body) => {
    const res = await h.call('globex', 'PUT', '/v1/notifications', body);
    expect(res.status).toBe(422);
    const p = await problemOf(res);
    expect(p.status).toBe(422);
    expect(p.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: pointer })]));
  });

  it('refuses a body that is not JSON, and a webhook whose secret is not set', async () => {
    const garbage = await h.call('globex', 'PUT', '/v1/notifications', '{"channels":');
    expect(garbage.status).toBe(400);
    expect((await problemOf(garbage)).status).toBe(400);

    const res = await h.call('globex', 'PUT', '/v1/notifications', {
      channels: { webhook: { url: 'https://hooks.globex.example', secret: 'NOT_SET' } },
    });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).detail).toContain('"NOT_SET" is not set');
    // Nothing was stored, and the engine still answers.
    expect(await channelsOf('globex')).toEqual({});
  });
});
