/**
 * The engine as `atlas serve` composes it (HTTP role, no worker: runs stay queued), over
 * this test file's database, with the shipped catalogue plus the test routes and workflows
 * in `fixtures/manifests`. Tenants, enabled workflows and secrets are set up through the
 * same tables and store the engine uses.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import Stripe from 'stripe';
import { mintToken } from '../../engine/auth/mint.ts';
import { loadConfig } from '../../engine/config.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import { tenantRequest } from '../helpers/api.ts';
import { listeningEnv } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

export const PLATFORM_STRIPE_SECRET = 'whsec_platformPlatformPlatform0123456789';
export const JWT_SECRET = 'atlas-webhook-tests-0123456789abcdef';

/** Only for its offline helpers (signing test headers); it never reaches the network. */
export const stripe = new Stripe('sk_test_x');

export interface WebhookEngine {
  url: string;
  engine: RunningEngine;
  db: Knex;
  /** A tenant, with the given workflows enabled and secrets stored (encrypted, as the API would). */
  tenant(id: string, opts?: { workflows?: string[]; secrets?: Record<string, string> }): Promise<void>;
  close(): Promise<void>;
}

/** `database`: the test file's (its pooled `url` and its `directUrl`). */
export async function startWebhookEngine(
  database: { url: string; directUrl: string },
  env: Record<string, string> = {},
): Promise<WebhookEngine> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-webhooks-'));
  const config = loadConfig(
    {
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ...listeningEnv(home, JWT_SECRET),
      ATLAS_MANIFESTS: `${path.join(ROOT, 'manifests')}:${path.join(FIXTURES, 'manifests')}`,
      STRIPE_WEBHOOK_SECRET: PLATFORM_STRIPE_SECRET,
      ...env,
    },
    ROOT,
  );
  const engine = await startEngine({
    config,
    log: makeLogger('silent', false),
    http: true,
    worker: false,
  }).catch(async (err: unknown) => {
    await fs.rm(home, { recursive: true, force: true });
    throw err;
  });
  const db = engine.db;
  return {
    url: engine.url!,
    engine,
    db,
    async tenant(id, opts = {}) {
      await db('tenants').insert({ id, name: `Tenant ${id}` });
      for (const workflow of opts.workflows ?? []) {
        await db('tenant_workflows').insert({ tenant_id: id, workflow_id: workflow, enabled: true });
      }
      for (const [name, value] of Object.entries(opts.secrets ?? {})) {
        await engine.services.secrets.put(id, name, value);
      }
    },
    async close() {
      await engine.stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

export async function readFixture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** A Stripe event body with a fresh `evt_` id, and its Stripe-Signature header (signed by stripe-node). */
export function signedStripe(
  event: Record<string, unknown>,
  secret: string,
  opts: { timestamp?: number } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(event, null, 2);
  const signature = stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
  });
  return {
    body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
  };
}

let counter = 0;
export function freshEventId(prefix = 'evt_'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(6, '0')}`;
}

export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<Response> {
  return fetch(url, { method, body, headers });
}

/** Runs, events and jobs a tenant has: what a delivery may have created. */
/**
 * The tenant's runs, events and queue jobs. A run is committed before the answer and its queue
 * job follows from the run outbox's dispatcher a moment later: wait (up to 5 s) until every run
 * of the tenant was dispatched, so that the job count is settled.
 */
export async function countsFor(db: Knex, tenantId: string) {
  const count = async (q: Knex.QueryBuilder) =>
    Number(((await q.count('* as n')) as Array<{ n: string }>)[0]!.n);
  const undispatched = () => count(db('workflow_runs').where({ tenant_id: tenantId, dispatched: false }));
  await waitFor(async () => (await undispatched()) === 0, 5_000);
  return {
    runs: await count(db('workflow_runs').where({ tenant_id: tenantId })),
    events: await count(db('webhook_events').where({ tenant_id: tenantId })),
    jobs: await count(db('graphile_worker._private_jobs').whereRaw("payload->>'tenantId' = ?", [tenantId])),
  };
}

/** An API call with a token granting `tenants`, naming `tenant` in `x-tenant-id`. */
export async function apiCall(
  url: string,
  method: string,
  path: string,
  opts: { tenant: string; tenants?: string[]; body?: unknown },
): Promise<Response> {
  const token = await mintToken({
    secret: JWT_SECRET,
    sub: 'webhook-tests',
    tenants: opts.tenants ?? [opts.tenant],
    ttlSeconds: 300,
  });
  return tenantRequest(`${url}${path}`, token, opts.tenant, method, opts.body);
}
