/**
 * The shipped catalogue running end to end: the engine as `atlas serve` composes it (HTTP API,
 * webhooks, worker) over this test file's database, with every connector pointed at its local
 * fake (Telegram, Graph and Teams workflows, Resend, Stripe, a plain HTTP receiver) through
 * `ATLAS_CONNECTOR_*` variables, and tenants' secrets stored as the API stores them.
 */

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { loadConfig } from '../../engine/config.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import type { RunDetail, TokenSource } from '../../engine/runtime/index.ts';
import { type GraphFake, startGraph } from '../fakes/msgraph.ts';
import { OPENAI_KEY, startOpenAI } from '../fakes/openai.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { startSocial } from '../fakes/social.ts';
import { STRIPE_KEY, type StripeFake, startStripe } from '../fakes/stripe.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook.ts';
import { listeningEnv } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';
import { ROOT, signedStripe, stripe } from '../webhooks/harness.ts';

export { BOT_TOKEN, RESEND_KEY, STRIPE_KEY, stripe };
export const STRIPE_SECRET = 'whsec_catalogueCatalogueCatalogue01234567';
export const TELEGRAM_SECRET = 'telegram-route-secret-0123456789';
const JWT_SECRET = 'atlas-catalogue-tests-0123456789abcdef';
export const HOOK_SECRET = `whsec_${Buffer.from('catalogue-signing-key-32-bytes!!').toString('base64')}`;

export interface Fakes {
  telegram: FakeServer;
  graph: GraphFake;
  resend: ResendFake;
  stripe: StripeFake;
  /** A tenant's own systems: answers every request with 200 `{"ok": true}`. */
  receiver: FakeServer;
  /** A Standard Webhooks endpoint that verifies signatures with HOOK_SECRET (400 otherwise). */
  hooks: WebhookReceiver;
  openai: FakeServer;
  /** X, LinkedIn, Meta and TikTok under their prefixes (`/x`, `/linkedin`, `/graph`, `/tiktok`). */
  social: FakeServer;
}

export interface CatalogueEngine {
  url: string;
  engine: RunningEngine;
  fakes: Fakes;
  /** A tenant with secrets (the fakes' credentials by default) and enabled workflows with config. */
  tenant(
    id: string,
    opts?: { secrets?: Record<string, string>; enable?: Record<string, Record<string, unknown>> },
  ): Promise<void>;
  /** Delivers a Stripe event signed with the tenant's secret; returns the response. */
  stripeEvent(tenant: string, event: Record<string, unknown>): Promise<Response>;
  /** Delivers a Telegram update as Telegram does, with the tenant's secret token. */
  telegramUpdate(tenant: string, update: Record<string, unknown>): Promise<Response>;
  /** Waits until the tenant has `count` finished runs of the workflow, and returns them in full. */
  finished(tenant: string, workflowId: string, count?: number): Promise<RunDetail[]>;
  /** The tenant's first finished run of the workflow, which must have succeeded (else its error shows). */
  succeeded(tenant: string, workflowId: string): Promise<RunDetail>;
  /** Waits until the tenant's newest run of the workflow is parked in the wait step `stepId`. */
  parkedAt(tenant: string, workflowId: string, stepId: string): Promise<RunDetail>;
  /** Delivers a signal as an approver does: `POST /v1/runs/:id/signals/:name` with a bearer token. */
  signal(tenant: string, runId: string, name: string, payload: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startCatalogueEngine(
  databaseUrl: string,
  opts: { tokens?: TokenSource } = {},
): Promise<CatalogueEngine> {
  const [telegram, graph, resend, stripeFake, receiver, hooks, openai, social] = await Promise.all([
    startTelegram(BOT_TOKEN),
    startGraph(),
    startResend(),
    startStripe(),
    startFake(() => json(200, { ok: true })),
    startWebhookReceiver(HOOK_SECRET),
    startOpenAI(),
    startSocial(),
  ]);
  const fakes: Fakes = { telegram, graph, resend, stripe: stripeFake, receiver, hooks, openai, social };
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-catalogue-'));
  const config = loadConfig(
    {
      DATABASE_URL: databaseUrl,
      ...listeningEnv(home, JWT_SECRET),
      ATLAS_MANIFESTS: path.join(ROOT, 'manifests'),
      ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
      ATLAS_CONNECTOR_MSGRAPH_BASE_URL: `${graph.url}/v1.0`,
      ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL: graph.url,
      ATLAS_CONNECTOR_MSGRAPH_TEAMS_WEBHOOK_HOSTS: '127.0.0.1',
      ATLAS_CONNECTOR_EMAIL_BASE_URL: resend.url,
      ATLAS_CONNECTOR_STRIPE_BASE_URL: stripeFake.url,
      ATLAS_CONNECTOR_OPENAI_BASE_URL: `${openai.url}/v1`,
      ATLAS_CONNECTOR_SOCIAL_X_BASE_URL: `${social.url}/x`,
      ATLAS_CONNECTOR_SOCIAL_LINKEDIN_BASE_URL: `${social.url}/linkedin`,
      ATLAS_CONNECTOR_SOCIAL_FACEBOOK_BASE_URL: `${social.url}/graph`,
      ATLAS_CONNECTOR_SOCIAL_INSTAGRAM_BASE_URL: `${social.url}/graph`,
      ATLAS_CONNECTOR_SOCIAL_TIKTOK_BASE_URL: `${social.url}/tiktok`,
      RESEND_FROM: 'Acme <billing@acme.example>',
    },
    ROOT,
  );
  const engine = await startEngine({
    config,
    log: makeLogger('silent', false),
    http: true,
    worker: true,
    ...(opts.tokens ? { overrides: { tokens: opts.tokens } } : {}),
  });
  const db = engine.db;
  const { runtime } = engine.services.runtime;
  const atlas: CatalogueEngine = {
    url: engine.url!,
    engine,
    fakes,
    async tenant(id, opts = {}) {
      await db('tenants').insert({ id, name: `Tenant ${id}` });
      const secrets = {
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
        STRIPE_SECRET_KEY: STRIPE_KEY,
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        RESEND_API_KEY: RESEND_KEY,
        OPENAI_API_KEY: OPENAI_KEY,
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        ...opts.secrets,
      };
      for (const [name, value] of Object.entries(secrets)) await engine.services.secrets.put(id, name, value);
      for (const [workflowId, config] of Object.entries(opts.enable ?? {}))
        await runtime.setWorkflowState(id, workflowId, { enabled: true, config });
    },
    stripeEvent(tenant, event) {
      const d = signedStripe(event, STRIPE_SECRET);
      return fetch(`${engine.url}/v1/webhooks/stripe?tenantId=${tenant}`, {
        method: 'POST',
        body: d.body,
        headers: d.headers,
      });
    },
    telegramUpdate(tenant, update) {
      return fetch(`${engine.url}/v1/telegram/webhook?tenantId=${tenant}`, {
        method: 'POST',
        body: JSON.stringify(update),
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      });
    },
    async finished(tenant, workflowId, count = 1) {
      const done = async () =>
        db('workflow_runs')
          .where({ tenant_id: tenant, workflow_id: workflowId })
          .whereIn('status', ['succeeded', 'failed', 'cancelled'])
          .orderBy('created_at')
          .select('id');
      await waitFor(async () => (await done()).length >= count, 30_000);
      const rows = await done();
      return Promise.all(rows.map(async (r: { id: string }) => (await runtime.getRun(tenant, r.id))!));
    },
    async succeeded(tenant, workflowId) {
      const [run] = await atlas.finished(tenant, workflowId);
      expect(run!.status, JSON.stringify(run!.error)).toBe('succeeded');
      return run!;
    },
    async parkedAt(tenant, workflowId, stepId) {
      let parked: RunDetail | undefined;
      await waitFor(async () => {
        const row = await db('workflow_runs')
          .where({ tenant_id: tenant, workflow_id: workflowId })
          .orderBy('created_at', 'desc')
          .first('id');
        const run = row ? await runtime.getRun(tenant, row.id as string) : undefined;
        const step = run?.steps.find((s) => s.id === stepId);
        if (run?.status === 'waiting' && step?.status === 'waiting') parked = run;
        return parked !== undefined;
      }, 30_000);
      return parked!;
    },
    async signal(tenant, runId, name, payload) {
      const token = await mintToken({
        secret: JWT_SECRET,
        sub: 'approver',
        tenants: [tenant],
        ttlSeconds: 300,
      });
      return fetch(`${engine.url}/v1/runs/${runId}/signals/${name}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'x-tenant-id': tenant,
          'content-type': 'application/json',
        },
        body: JSON.stringify(payload),
      });
    },
    async close() {
      await engine.stop();
      await Promise.all(Object.values(fakes).map((f) => f.close()));
      await fs.rm(home, { recursive: true, force: true });
    },
  };
  return atlas;
}

let counter = 0;
/** A Stripe event with a fresh id. */
export function stripeEventOf(type: string, object: Record<string, unknown>): Record<string, unknown> {
  counter += 1;
  return {
    id: `evt_cat${Date.now().toString(36)}${counter}`,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object },
  };
}
