// The web console in a real browser: the engine as `atlas serve` composes it (HTTP API,
// worker, webhooks) on the file's database, its manifests copied or written into a fresh
// ATLAS_HOME, and one chromium page that may reach nothing but Atlas.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
// @ts-expect-error: a plain JavaScript build script, run by npm before any TypeScript tooling
import { buildUi } from '../../bin/build-ui.js';
import { mintToken } from '../../engine/auth/mint.ts';
import { loadConfig } from '../../engine/config.ts';
import { type EngineOptions, type RunningEngine, startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import { tenantRequest } from '../helpers/api.ts';
import { listeningEnv } from '../helpers/engine.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'ui');
export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => existsSync(p),
);
export const JWT_SECRET = 'atlas-browser-tests-0123456789abcdef';

export interface ConsoleOptions {
  /** The database URL of the file (`useTestDatabase().url`). */
  databaseUrl: string;
  /** Manifests of the repository to copy, relative to its root. */
  copy?: string[];
  /** Manifests to write: file name → YAML. */
  fixtures?: Record<string, string>;
  /** The browser page's options: time zone, locale, viewport. */
  context?: BrowserContextOptions;
}

export interface Console {
  url: string;
  home: string;
  uiDir: string;
  engine: RunningEngine;
  browser: Browser;
  page: Page;
  token: string;
  /** Page errors and console errors seen so far. */
  errors: string[];
  shot(name: string): Promise<void>;
  go(hash: string): Promise<void>;
  /** Calls the API as the tenant `demo`, as its scripts would; fails the test on an error status. */
  call(method: string, p: string, body?: unknown): Promise<Record<string, unknown>>;
  startRun(workflow: string, input?: unknown): Promise<string>;
  /** Waits until the run page shows this status. */
  runStatusIs(status: string): Promise<void>;
  /** Another engine serving the same database and console (HTTP only), with these options. */
  serveAlso(options: Partial<EngineOptions>): Promise<RunningEngine>;
  stop(): Promise<void>;
}

function configOf(databaseUrl: string, home: string, manifests: string) {
  return loadConfig(
    {
      DATABASE_URL: databaseUrl,
      ...listeningEnv(home, JWT_SECRET),
      ATLAS_MANIFESTS: manifests,
      ATLAS_WORKER_CONCURRENCY: '8',
    },
    ROOT,
  );
}

export async function startConsole(opts: ConsoleOptions): Promise<Console> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-ui-browser-'));
  const manifests = path.join(home, 'manifests');
  await fs.mkdir(manifests);
  for (const file of opts.copy ?? []) {
    await fs.copyFile(path.join(ROOT, file), path.join(manifests, path.basename(file)));
  }
  for (const [name, text] of Object.entries(opts.fixtures ?? {})) {
    await fs.writeFile(path.join(manifests, name), text);
  }
  const uiDir = path.join(home, 'ui');
  await buildUi({ outdir: uiDir });
  const config = configOf(opts.databaseUrl, home, manifests);
  const log = makeLogger('silent', false);
  const engine = await startEngine({ config, log, http: true, worker: true, uiDir });
  const others: RunningEngine[] = [];
  const url = engine.url!;
  await engine.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
  const token = await mintToken({ secret: JWT_SECRET, sub: 'ada', tenants: ['demo'], ttlSeconds: 600 });
  await fs.mkdir(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM!,
    args: [
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts.context });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  // Nothing but Atlas itself (and engines of this file): a request anywhere else fails.
  await context.route('**/*', (route) =>
    route.request().url().startsWith('http://127.0.0.1:') ? route.continue() : route.abort('blockedbyclient'),
  );
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await tenantRequest(`${url}${p}`, token, 'demo', method, body);
    expect(res.ok, `${method} ${p} answered ${res.status}`).toBe(true);
    return (await res.json()) as Record<string, unknown>;
  };
  return {
    url,
    home,
    uiDir,
    engine,
    browser,
    page,
    token,
    errors,
    shot: async (name) => {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    go: async (hash) => {
      await page.goto(`${url}/#${hash}`);
    },
    call,
    startRun: async (workflow, input = {}) =>
      (await call('POST', `/v1/workflows/${workflow}/runs`, { input })).id as string,
    runStatusIs: async (status) => {
      await page.locator('dl.facts .status', { hasText: status }).first().waitFor({ timeout: 30_000 });
    },
    serveAlso: async (options) => {
      const other = await startEngine({ config, log, http: true, worker: false, uiDir, ...options });
      others.push(other);
      return other;
    },
    stop: async () => {
      await browser.close();
      for (const other of others) await other.stop();
      await engine.stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** Signs the page in with a pasted token. */
export async function signInWithToken(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Runs' }).waitFor();
}
