// The notifications page in a real browser (Debian's chromium through playwright-core),
// against the engine's API on this file's database: the tenant sets its channels and events,
// a mistake is shown as the API's sentence and nothing is saved, and a reload shows what was.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript build script, run by npm before any TypeScript tooling
import { buildUi } from '../../bin/build-ui.js';
import { mintToken } from '../../engine/auth/mint.ts';
import { loadConfig } from '../../engine/config.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { listeningEnv } from '../helpers/engine.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'ui');
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) =>
  existsSync(p),
);
if (!CHROMIUM)
  console.warn(
    'test/ui/notifications.test.ts skipped: no chromium binary (apt-get install -y chromium; .ci/run does)',
  );
const JWT_SECRET = 'atlas-browser-notify-0123456789abcdef';

const t = useTestDatabase();
let home: string;
let engine: RunningEngine;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

describe.skipIf(!CHROMIUM)('the notifications page', () => {
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-ui-notify-'));
    await fs.mkdir(path.join(home, 'manifests'));
    await fs.copyFile(
      path.join(ROOT, 'manifests/workflows/WF-001-hello.yaml'),
      path.join(home, 'manifests/WF-001-hello.yaml'),
    );
    const uiDir = path.join(home, 'ui');
    await buildUi({ outdir: uiDir });
    const config = loadConfig(
      {
        DATABASE_URL: t.url,
        ...listeningEnv(home, JWT_SECRET),
        ATLAS_MANIFESTS: path.join(home, 'manifests'),
      },
      ROOT,
    );
    engine = await startEngine({
      config,
      log: makeLogger('silent', false),
      http: true,
      worker: false,
      uiDir,
    });
    await t.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
    await engine.services.secrets.put(
      'demo',
      'HOOK_SECRET',
      `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.route('**/*', (route) =>
      route.request().url().startsWith(engine.url!) ? route.continue() : route.abort('blockedbyclient'),
    );
    await fs.mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('sets the channels and events, shows a refusal in words, and keeps what was saved', async () => {
    const token = await mintToken({ secret: JWT_SECRET, sub: 'ada', tenants: ['demo'], ttlSeconds: 600 });
    await page.goto(engine.url!);
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: 'Notifications' })
      .click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    // Every event is on until the tenant chooses.
    for (const box of await page.getByRole('checkbox').all()) expect(await box.isChecked()).toBe(true);

    await page.getByLabel('Telegram chat id').fill('-1001234567890');
    await page.getByLabel('Email addresses').fill('ops@demo.example, not-an-address');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: '/channels/email/to/1' }).waitFor();
    expect(await t.db('notification_settings').where({ tenant_id: 'demo' })).toHaveLength(0);

    await page.getByLabel('Email addresses').fill('ops@demo.example, cto@demo.example');
    await page.getByLabel('Webhook URL').fill('https://hooks.demo.example/atlas');
    await page.getByLabel('Webhook signing secret (its name)').fill('HOOK_SECRET');
    await page.getByLabel('A quota went above 90%', { exact: false }).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Notification settings saved.').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'notifications-1280.png'), fullPage: true });
    const row = await t.db('notification_settings').where({ tenant_id: 'demo' }).first();
    expect(row).toMatchObject({
      channels: {
        telegram: { chatId: -1001234567890 },
        email: { to: ['ops@demo.example', 'cto@demo.example'] },
        webhook: { url: 'https://hooks.demo.example/atlas', secret: 'HOOK_SECRET' },
      },
      events: ['run.failed', 'job.failed', 'integration.disconnected'],
      updated_by: 'ada',
    });

    await page.reload();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    expect(await page.getByLabel('Telegram chat id').inputValue()).toBe('-1001234567890');
    expect(await page.getByLabel('Email addresses').inputValue()).toBe('ops@demo.example, cto@demo.example');
    expect(await page.getByLabel('A quota went above 90%', { exact: false }).isChecked()).toBe(false);
    expect(await page.getByText('Last changed').textContent()).toContain('by ada');
    expect(pageErrors).toEqual([]);
  });
});
