/**
 * The catalogue's approval and sub-workflow examples end to end. WF-025: a refund over the threshold posts Approve/Reject buttons to the fake
 * Telegram and parks; button presses come back through the engine's Telegram webhook route as
 * `callback_query` updates and become the `approval` signal only for the route's tenant and
 * from a listed approver; the approved refund reaches the fake Stripe. WF-085: onboarding
 * runs WF-028 as a child (Stripe customer and invoice) and starts WF-084 without waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/poll.ts';
import { type CatalogueEngine, startCatalogueEngine } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;
const APPROVER = 7001;
const CONFIG = { chatId: '-100555', approvers: [APPROVER], thresholdCents: 50000 };

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url);
  await atlas.tenant('acme', { enable: { 'WF-025': CONFIG, 'WF-085': { chatId: '-100777' } } });
  // Another tenant lists the same approver: its deliveries still cannot reach acme's runs.
  await atlas.tenant('globex', { enable: { 'WF-025': CONFIG } });
}, 60_000);
afterAll(async () => {
  await atlas?.close();
});

const press = (tenant: string, updateId: number, from: number, data: string) =>
  atlas.telegramUpdate(tenant, {
    update_id: updateId,
    callback_query: {
      id: `cb${updateId}`,
      from: { id: from, is_bot: false, first_name: from === APPROVER ? 'Maria' : 'Mallory' },
      message: { message_id: 100, date: 1764400000, chat: { id: -100555, type: 'group' } },
      chat_instance: '42',
      data,
    },
  });

const buttonsOf = async (runId: string) => {
  for (const r of atlas.fakes.telegram.requests) {
    const p = await telegramParams(r);
    const markup = p['reply_markup'] as
      | { inline_keyboard: Array<Array<{ callback_data: string }>> }
      | undefined;
    const data = markup?.inline_keyboard.flat().map((b) => b.callback_data) ?? [];
    if (data.some((d) => d.startsWith(runId))) return { text: p['text'] as string, data };
  }
  return undefined;
};

const status = async (id: string) => (await database.db('workflow_runs').where({ id }).first())?.status;
const refunds = () => atlas.fakes.stripe.requests.filter((r) => r.path === '/v1/refunds');

describe('WF-025 refund approval', () => {
  it('asks on Telegram, refuses a non-approver and another tenant, and refunds once an approver approves', async () => {
    const { runtime } = atlas.engine.services.runtime;
    const { run } = await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-025',
      input: { paymentIntent: 'pi_big', amount: 80000, customer: 'Ada' },
    });
    await waitFor(async () => (await status(run.id)) === 'waiting');
    const buttons = (await buttonsOf(run.id))!;
    expect(buttons.text).toContain('Refund of 800 EUR on pi_big for Ada');
    expect(buttons.data).toEqual([`${run.id}:approve`, `${run.id}:reject`]);
    const before = refunds().length;

    // A press from someone the config does not list is accepted by the route but refused as a signal.
    expect((await press('acme', 501, 9999, `${run.id}:approve`)).status).toBe(200);
    // The same press delivered for another tenant finds no run of that tenant.
    expect((await press('globex', 502, APPROVER, `${run.id}:approve`)).status).toBe(200);
    expect(await database.db('run_signals').where({ run_id: run.id })).toHaveLength(0);
    expect(await status(run.id)).toBe('waiting');
    const audits = await database.db('audit_log').where({ action: 'webhook.receive' }).orderBy('id');
    const reasons = audits.flatMap((a) =>
      (a.summary?.signals ?? []).map((s: { reason?: string }) => s.reason),
    );
    expect(reasons).toContain('9999 is not an approver of WF-025');
    expect(reasons).toContain(`There is no run ${run.id}.`);

    expect((await press('acme', 503, APPROVER, `${run.id}:approve`)).status).toBe(200);
    const done = (await runtime.waitForRun('acme', run.id, 20_000))!;
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.output).toMatchObject({ refunded: true, approval: { approved: true, by: 'Maria' } });
    const [signal] = await database.db('run_signals').where({ run_id: run.id });
    expect(signal).toMatchObject({ name: 'approval', sender: `telegram:${APPROVER}` });
    expect(refunds().length).toBe(before + 1);
    expect(refunds().at(-1)!.text()).toContain('payment_intent=pi_big');
  });

  it('does not refund when the approver rejects, and refunds a small amount without asking', async () => {
    const { runtime } = atlas.engine.services.runtime;
    const { run } = await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-025',
      input: { paymentIntent: 'pi_rejected', amount: 90000 },
    });
    await waitFor(async () => (await status(run.id)) === 'waiting');
    await press('acme', 601, APPROVER, `${run.id}:reject`);
    const rejected = (await runtime.waitForRun('acme', run.id, 20_000))!;
    expect(rejected.output).toMatchObject({ refunded: false, refundId: null });
    expect(refunds().some((r) => r.text().includes('pi_rejected'))).toBe(false);

    const small = await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-025',
      input: { paymentIntent: 'pi_small', amount: 2000 },
    });
    const done = (await runtime.waitForRun('acme', small.run.id, 20_000))!;
    expect(done.output).toMatchObject({ refunded: true });
    expect(await buttonsOf(small.run.id)).toBeUndefined();
  });
});

describe('WF-085 customer onboarding', () => {
  it('runs WF-028 as a child and waits for it, starts WF-084 and goes on, and tells the team', async () => {
    const { runtime } = atlas.engine.services.runtime;
    const { run } = await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-085',
      input: { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'Pro plan' },
    });
    const done = (await runtime.waitForRun('acme', run.id, 30_000))!;
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.calls.map((c) => [c.workflowId, c.stepId])).toEqual([
      ['WF-028', 'invoice'],
      ['WF-084', 'guide'],
    ]);
    const [invoice, guide] = done.calls;
    expect(invoice!.status).toBe('succeeded');
    expect(done.output).toEqual({ invoiced: true, guideRunId: guide!.runId });
    // The guide waits its three days parked, and knows who started it.
    await waitFor(async () => (await status(guide!.runId)) === 'waiting');
    const child = (await runtime.getRun('acme', guide!.runId))!;
    expect(child.calledBy).toEqual({ runId: run.id, stepId: 'guide' });
    const stripePaths = atlas.fakes.stripe.requests.map((r) => r.path);
    expect(stripePaths).toContain('/v1/customers');
    expect(stripePaths).toContain('/v1/invoices');
    const told = await Promise.all(atlas.fakes.telegram.requests.map((r) => telegramParams(r)));
    expect(told.some((p) => String(p['text']).includes(`New customer Ada Lovelace`))).toBe(true);
    await runtime.cancel('acme', guide!.runId);
  });
});
