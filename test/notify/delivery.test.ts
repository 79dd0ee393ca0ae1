/**
 * Notifications delivered by the whole engine (queue worker, runtime, connectors, fakes): a
 * failed run reaches the tenant's Telegram chat, email and webhook as typed jobs; a second
 * failure within 15 minutes waits and goes out as one digest when the window ends; a typed
 * job that fails for good is notified, a notification job that fails is not (no loop); a
 * quota that crosses 90% warns once; a tenant without settings hears nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAI_KEY, startOpenAI } from '../fakes/openai.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll, waitFor } from '../helpers/poll.ts';
import { type NotifyHarness, startNotifyHarness } from './harness.ts';

const ACME_CHAT = 4242;

describe('notifications', () => {
  const database = useTestDatabase();
  let h: NotifyHarness;
  let resend: ResendFake;
  let openai: FakeServer;

  /** Ends the subject's throttle window now, as 15 minutes passing would. */
  async function windowPasses(tenant: string, kind: string, subject: string) {
    const db = database.db;
    await db('notification_windows')
      .where({ tenant_id: tenant, kind, subject })
      .update({ last_sent_at: db.raw("last_sent_at - interval '15 minutes'") });
    await db('notification_events')
      .where({ tenant_id: tenant, kind, subject })
      .update({ due_at: db.raw("due_at - interval '15 minutes'") });
  }

  const notifyJobs = (tenant: string) =>
    database.db('jobs').where({ tenant_id: tenant, actor: 'atlas:notify' }).orderBy('created_at');

  beforeAll(async () => {
    [resend, openai] = await Promise.all([startResend(), startOpenAI()]);
    h = await startNotifyHarness(database, {
      env: {
        ATLAS_CONNECTOR_EMAIL_BASE_URL: resend.url,
        RESEND_API_KEY: RESEND_KEY,
        RESEND_FROM: 'Atlas <noreply@atlas.dev>',
        ATLAS_PLATFORM_CREDENTIALS: 'email, openai, telegram',
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        ATLAS_CONNECTOR_OPENAI_BASE_URL: `${openai.url}/v1`,
        OPENAI_API_KEY: OPENAI_KEY,
      },
    });
    await database
      .db('tenants')
      .where({ id: 'acme' })
      .update({
        settings: {
          mailboxes: ['noreply@atlas.dev'],
          files: { maxStorageMb: 1000 / 1048576 },
          llm: { tokensPerDay: 40 },
        },
      });
    const put = await h.call('acme', 'PUT', '/v1/notifications', {
      channels: {
        telegram: { chatId: ACME_CHAT },
        email: { to: ['ops@acme.example'] },
        webhook: { url: `${h.receiver.url}/atlas`, secret: 'HOOK_SECRET' },
      },
    });
    expect(put.status).toBe(200);
    await h.engine.startWorker(4);
  });
  afterAll(async () => {
    await h?.stop();
    await Promise.all([resend?.close(), openai?.close()]);
  });

  it('sends a failed run to every channel once, then folds the next failures into one digest', async () => {
    const run = await h.engine.runToEnd('WF-900');
    expect(run.status).toBe('failed');
    const [text] = await poll(async () => {
      const m = await h.messages(ACME_CHAT);
      return m.length > 0 ? m : undefined;
    });
    expect(text).toContain(`Run ${run.id} of workflow WF-900 failed at step charge`);
    expect(text).toContain('card_declined: the card was declined');
    await waitFor(async () => h.receiver.verified.length === 1 && resend.emails.length === 1);
    expect(h.receiver.verified[0]).toMatchObject({
      type: 'atlas.run.failed',
      data: { tenantId: 'acme', kind: 'run.failed', subject: 'WF-900', count: 1, latest: { runId: run.id } },
    });
    expect(resend.emails[0]).toMatchObject({
      to: ['ops@acme.example'],
      subject: 'Atlas (acme): workflow WF-900 failed',
    });
    // Three jobs, audited and retried like any: one per channel.
    expect((await notifyJobs('acme')).map((j) => j.type).sort()).toEqual([
      'EMAIL_SEND',
      'TELEGRAM_SEND',
      'WEBHOOK_SEND',
    ]);

    // Three more failures within the window: nothing now...
    const more = [];
    for (let i = 0; i < 3; i++) more.push(await h.engine.runToEnd('WF-900'));
    await waitFor(
      async () => (await database.db('notification_events').where({ tenant_id: 'acme' })).length === 3,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await h.messages(ACME_CHAT)).toHaveLength(1);
    // ...and one digest of all three when it ends.
    await windowPasses('acme', 'run.failed', 'WF-900');
    const digest = await poll(async () => (await h.messages(ACME_CHAT))[1]);
    expect(digest).toContain('3 run.failed events about WF-900');
    expect(digest).toContain(`Run ${more[2]!.id} of workflow WF-900 failed`);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await h.messages(ACME_CHAT)).toHaveLength(2);
    expect(await database.db('notification_events').where({ tenant_id: 'acme' })).toHaveLength(0);
  });

  it('notifies a typed job that failed for good, but never a notification job that failed', async () => {
    const bad = await h.call('acme', 'POST', '/v1/jobs', {
      type: 'TELEGRAM_SEND',
      payload: { chat_id: 404, text: 'to a chat that does not exist' },
    });
    expect(bad.status).toBe(202);
    const jobId = ((await bad.json()) as { id: string }).id;
    const text = await poll(async () => (await h.messages(ACME_CHAT)).find((m) => m.includes(jobId)));
    expect(text).toContain(`A TELEGRAM_SEND job (${jobId}) failed after 1 attempt(s)`);

    // The tenant's chat now points nowhere: its notification jobs fail, and nobody is told.
    await h.call('acme', 'PUT', '/v1/notifications', { channels: { telegram: { chatId: 404 } } });
    await windowPasses('acme', 'run.failed', 'WF-900');
    await h.engine.runToEnd('WF-900');
    await waitFor(async () =>
      (await notifyJobs('acme')).some((j) => j.payload.chat_id === 404 && j.status === 'failed'),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const events = await database.db('notification_events').where({ tenant_id: 'acme', kind: 'job.failed' });
    expect(events).toHaveLength(0);
    const failedNotifies = (await notifyJobs('acme')).filter((j) => j.status === 'failed');
    expect(failedNotifies).toHaveLength(1);
  });

  it('warns once when file storage crosses 90% of its quota; a tenant without settings hears nothing', async () => {
    await h.call('acme', 'PUT', '/v1/notifications', { channels: { telegram: { chatId: ACME_CHAT } } });
    const upload = (tenant: string, bytes: number) =>
      h.call(tenant, 'POST', `/v1/files?name=f${bytes}.txt`, 'x'.repeat(bytes));
    expect((await upload('acme', 500)).status).toBe(201);
    expect((await upload('acme', 420)).status).toBe(201);
    const warning = await poll(async () =>
      (await h.messages(ACME_CHAT)).find((m) => m.includes('File storage')),
    );
    expect(warning).toContain('File storage (bytes) is at 92% of its limit (920 of 1000)');
    expect((await upload('acme', 50)).status).toBe(201);
    await database
      .db('tenants')
      .where({ id: 'globex' })
      .update({ settings: { files: { maxStorageMb: 1000 / 1048576 } } });
    expect((await upload('globex', 950)).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.messages(ACME_CHAT)).filter((m) => m.includes('File storage'))).toHaveLength(1);
    expect(await database.db('notification_events').where({ tenant_id: 'globex' })).toHaveLength(0);
    expect(await notifyJobs('globex')).toHaveLength(0);
  });

  it("warns once when the day's platform LLM tokens cross 90% of the tenant's budget", async () => {
    // The fake reports 17 tokens a call; 90% of 40 is 36: the third call (34 to 51) crosses it.
    const chat = () =>
      h.engine.runtime.callAction('acme', 'openai.chat', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
      });
    for (let i = 0; i < 2; i++) expect(await chat()).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 1200));
    expect((await h.messages(ACME_CHAT)).filter((m) => m.includes('LLM tokens'))).toHaveLength(0);
    expect(await chat()).toMatchObject({ ok: true });
    expect(await chat()).toMatchObject({ ok: false, failure: { code: 'budget_exceeded' } });
    const warning = await poll(async () =>
      (await h.messages(ACME_CHAT)).find((m) => m.includes('LLM tokens')),
    );
    expect(warning).toContain("Today's LLM tokens on the platform's key is at 127% of its limit (51 of 40)");
    await new Promise((r) => setTimeout(r, 1200));
    expect((await h.messages(ACME_CHAT)).filter((m) => m.includes('LLM tokens'))).toHaveLength(1);
  });

  it('uses the platform bot only in a chat the operator assigned to the tenant', async () => {
    // globex has no bot of its own; the operator offers the platform's and assigns it chat 55.
    await h.engine.services.secrets.remove('globex', 'TELEGRAM_BOT_TOKEN');
    await database
      .db('tenants')
      .where({ id: 'globex' })
      .update({ settings: { telegram: { chats: [55] } } });
    await h.call('globex', 'PUT', '/v1/notifications', { channels: { telegram: { chatId: 55 } } });
    const run = await h.engine.runToEnd('WF-900', {}, 'globex');
    const text = await poll(async () => (await h.messages(55))[0]);
    expect(text).toContain(`Run ${run.id} of workflow WF-900 failed`);

    // Chat 66 is not assigned: the job fails before any call to Telegram, and nothing loops.
    await h.call('globex', 'PUT', '/v1/notifications', { channels: { telegram: { chatId: 66 } } });
    await windowPasses('globex', 'run.failed', 'WF-900');
    await database.db('notification_windows').where({ tenant_id: 'globex' }).delete();
    await h.engine.runToEnd('WF-900', {}, 'globex');
    const refused = await poll(async () =>
      (await notifyJobs('globex')).find((j) => j.payload.chat_id === 66 && j.status === 'failed'),
    );
    expect(refused.last_error).toMatchObject({ code: 'chat_not_assigned' });
    expect(await h.messages(66)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await notifyJobs('globex')).toHaveLength(2);
  });
});
