// The web console in a real browser (Debian's chromium through playwright-core), against
// the engine as `atlas serve` composes it: HTTP API, worker, webhooks, on this file's
// database. One browser for the whole file. Screenshots of each page at 1280 and 390 pixels
// go to test-artifacts/ui/.
import type { Page } from 'playwright-core';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import type { RunningEngine } from '../../engine/engine.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { CHROMIUM, type Console, JWT_SECRET, startConsole } from './harness.ts';

if (!CHROMIUM) {
  console.warn(
    'test/ui/browser.test.ts skipped: no chromium binary (apt-get install -y chromium; .ci/run does)',
  );
}

const STRIPE_SECRET = 'whsec_browserBrowserBrowser0123456789';
const stripe = new Stripe('sk_test_x');

const FIXTURES: Record<string, string> = {
  'WF-901-fails-once.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-901
name: Fails once
trigger: { type: manual }
steps:
  - id: flaky
    uses: core.fail
    with: { kind: fatal, times: 1, message: the first attempt fails }
    retry: { maxAttempts: 1 }
`,
  'WF-902-waits.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-902
name: Waits a minute
trigger: { type: manual }
steps:
  - id: wait
    uses: core.sleep
    timeout: 5m
    with: { ms: 60000 }
`,
  'WF-903-on-checkout.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-903
name: On checkout
trigger: { type: webhook, route: stripe, events: [checkout.session.completed] }
steps:
  - id: note
    uses: core.log
    with: { message: "checkout {{ trigger.eventId }}" }
`,
};

const t = useTestDatabase();
let c: Console;
let engine: RunningEngine;
let page: Page;
let url: string;
let demoToken: string;
let pageErrors: string[];

const shot = (name: string) => c.shot(name);
const go = (hash: string) => c.go(hash);
const apiCall = (method: string, p: string, body?: unknown) => c.call(method, p, body);
const startRun = (workflow: string, input: unknown = {}) => c.startRun(workflow, input);
const runStatusIs = (status: string) => c.runStatusIs(status);

describe.skipIf(!CHROMIUM)('the console in a browser', () => {
  beforeAll(async () => {
    c = await startConsole({
      databaseUrl: t.url,
      copy: ['manifests/workflows/WF-001-hello.yaml', 'manifests/webhooks/stripe.yaml'],
      fixtures: FIXTURES,
    });
    ({ engine, page, url, token: demoToken, errors: pageErrors } = c);
    await t.db('tenants').insert({ id: 'globex', name: 'Globex' });
    // A route that names its tenant in the query verifies with that tenant's own secret only.
    await engine.services.secrets.put('demo', 'STRIPE_WEBHOOK_SECRET', STRIPE_SECRET);
  }, 120_000);

  beforeEach((ctx) => {
    ctx.onTestFailed(() => shot(`failed-${ctx.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`));
  });

  afterAll(async () => {
    await c?.stop();
  });

  it('shows the sign-in, and signs in with a pasted token to the tenant’s runs', async () => {
    const started = performance.now();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Sign in to Atlas' }).waitFor();
    const loadMs = performance.now() - started;
    // A cold browser's first page; a second load, with the assets cached, is the usual case.
    expect(loadMs).toBeLessThan(3000);
    const again = performance.now();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Atlas' }).waitFor();
    expect(performance.now() - again).toBeLessThan(1000);
    await shot('01-sign-in-1280');
    await page.getByLabel('Token', { exact: true }).fill('not a token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'not an API token' }).waitFor();
    await page.getByLabel('Token', { exact: true }).fill(demoToken);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.getByText('No runs yet').waitFor();
    expect(await page.locator('.who').textContent()).toContain('demo');
    await shot('02-runs-empty-1280');
  });

  it('starts WF-001 from its form, checked before sending, and watches it succeed on the timeline', async () => {
    await go('/workflows/WF-001');
    await page.getByRole('heading', { name: 'WF-001 Hello' }).waitFor();
    await page.locator('ol.source li').first().waitFor();
    expect(await page.locator('ol.source li').count()).toBeGreaterThan(20);
    await page.getByRole('button', { name: 'Run WF-001' }).click();
    await page.getByRole('alert').filter({ hasText: 'input.name is required' }).waitFor();
    expect(Number((await t.db('workflow_runs').count({ n: '*' }))[0]!.n)).toBe(0);
    await page.getByLabel(/^name/).fill('Ada');
    await shot('03-workflow-form-1280');
    await page.getByRole('button', { name: 'Run WF-001' }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    await runStatusIs('succeeded');
    await page.locator('.gantt .bar.status-succeeded').first().waitFor();
    expect(await page.locator('.gantt-row').count()).toBe(3);
    await page.locator('details.step summary', { hasText: 'greeting' }).click();
    await page.locator('details.step[open] pre', { hasText: 'Hello, Ada!' }).first().waitFor();
    await shot('04-run-succeeded-1280');
  });

  it('shows new runs and status changes in the list without reloading', async () => {
    await go('/runs');
    await page.locator('tr[data-run]').first().waitFor();
    const before = await page.locator('tr[data-run]').count();
    const id = await startRun('WF-001', { name: 'Live' });
    await page.locator(`tr[data-run="${id}"] .status-succeeded`).waitFor({ timeout: 20_000 });
    expect(await page.locator('tr[data-run]').count()).toBe(before + 1);
    await shot('05-runs-live-1280');
  });

  it('follows the change feed for the live list instead of polling', async () => {
    const requests: string[] = [];
    const onRequest = (req: { url(): string; headers(): Record<string, string> }) => {
      const u = new URL(req.url());
      if (u.pathname.startsWith('/v1/runs/changes') || u.pathname === '/v1/events')
        requests.push(`${u.pathname} ${req.headers().accept ?? ''}`);
    };
    page.on('request', onRequest);
    try {
      await go('/runs');
      await page.reload(); // the page opens its stream again, now observed
      await page.locator('p.live[data-feed="live"]').waitFor({ timeout: 10_000 });
      const id = await startRun('WF-001', { name: 'Feed' });
      await page.locator(`tr[data-run="${id}"] .status-succeeded`).waitFor({ timeout: 20_000 });
      expect(requests.some((r) => r.startsWith('/v1/events text/event-stream'))).toBe(true);
      expect(requests.filter((r) => r.startsWith('/v1/runs/changes'))).toEqual([]);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('retries a failed run after confirmation', async () => {
    const id = await startRun('WF-901');
    await go(`/runs/${id}`);
    await runStatusIs('failed');
    await page.getByText('the first attempt fails').first().waitFor();
    await shot('06-run-failed-1280');
    await page.getByRole('button', { name: 'Retry' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(Number((await t.db('step_runs').where({ run_id: id }).count({ n: '*' }))[0]!.n)).toBe(1);
    await page.getByRole('button', { name: 'Retry' }).click();
    await dialog.getByRole('button', { name: 'Retry' }).click();
    await runStatusIs('succeeded');
    expect(await page.locator('.gantt .bar').count()).toBe(2);
  });

  it('cancels a waiting run after confirmation', async () => {
    const id = await startRun('WF-902');
    await go(`/runs/${id}`);
    await runStatusIs('running');
    await page.locator('.gantt .bar.status-running').waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the run' }).click();
    await runStatusIs('cancelled');
    const row = await t.db('workflow_runs').where({ id }).first('status');
    expect(row.status).toBe('cancelled');
    await shot('07-run-cancelled-1280');
  });

  it('toggles a workflow for the tenant', async () => {
    await go('/workflows');
    const toggle = page.getByRole('switch', { name: 'Enabled for this tenant: WF-903' });
    await toggle.waitFor();
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    await toggle.click();
    await page.locator('[role=switch][aria-checked=true]', { hasText: 'Enabled' }).waitFor();
    const state = await t.db('tenant_workflows').where({ tenant_id: 'demo', workflow_id: 'WF-903' }).first();
    expect(state.enabled).toBe(true);
    await shot('08-workflows-1280');
  });

  it('shows a webhook delivery and the run it started', async () => {
    const body = JSON.stringify({
      id: 'evt_browser_1',
      type: 'checkout.session.completed',
      data: { object: { id: 'cs_1' } },
    });
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET });
    const res = await fetch(`${url}/v1/webhooks/stripe?tenantId=demo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body,
    });
    expect(res.headers.get('atlas-webhook-outcome')).toBe('accepted');
    await go('/webhooks');
    const row = page.locator('tr[data-delivery="evt_browser_1"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('checkout.session.completed');
    await shot('09-webhooks-1280');
    await row.getByRole('link').click();
    await page.getByRole('link', { name: 'WF-903' }).waitFor();
    await runStatusIs('succeeded');
  });

  it('shows jobs, integrations, secrets and the audit log, with what to do when empty', async () => {
    await go('/jobs');
    await page.getByText('No jobs.').waitFor();
    await go('/integrations');
    await page.getByText('No account connected.').waitFor();
    await go('/secrets');
    await page.getByLabel('Name').fill('HOOK_SECRET');
    await page.getByLabel('Value').fill('s3cr3t-value');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('cell', { name: 'HOOK_SECRET' }).waitFor();
    expect(await page.content()).not.toContain('s3cr3t-value');
    await shot('10-secrets-1280');
    await go('/audit?action=runs.retry');
    await page.getByRole('cell', { name: 'runs.retry' }).first().waitFor();
    await shot('11-audit-1280');
  });

  it('uploads a file, lists it with the usage, gets its link and deletes it after confirmation', async () => {
    await go('/files');
    await page.getByText('No files yet.').waitFor();
    await page.getByLabel('File', { exact: true }).setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Refunds take five days.\n'),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const row = page.locator('tr[data-file="notes.txt"]');
    await row.waitFor();
    await page.getByText('notes.txt uploaded').waitFor();
    expect(await page.locator('.meters').textContent()).toContain('Files: 1 of 500');
    await row.getByRole('button', { name: 'Get a link to notes.txt' }).click();
    const link = row.getByRole('link', { name: 'Download notes.txt' });
    await link.waitFor();
    const href = (await link.getAttribute('href'))!;
    // Signed links point at ATLAS_PUBLIC_URL, which a server on port 0 cannot know: ask this one.
    const signed = new URL(href);
    expect(signed.pathname).toMatch(/^\/v1\/files\/[0-9a-f-]{36}\/content$/);
    const download = await fetch(`${url}${signed.pathname}${signed.search}`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('Refunds take five days.\n');
    await shot('17-files-1280');
    await go('/files?prefix=zzz');
    await page.getByText('No file name starts with').waitFor();
    await go('/files');
    await row.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await row.count()).toBe(1);
    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No files yet.').waitFor();
    expect((await apiCall('GET', '/v1/files')).usage).toEqual({ files: 0, bytes: 0 });
  });

  it('searches the knowledge base and shows the chunk with its document, then deletes the document', async () => {
    const job = await apiCall('POST', '/v1/jobs', {
      type: 'KB_INGEST',
      payload: {
        title: 'Refund policy',
        text: '# Refunds\n\nRefunds take five business days to reach the card.\n\n# Shipping\n\nParcels leave within a day.',
      },
    });
    for (let i = 0; i < 100; i += 1) {
      const state = await apiCall('GET', `/v1/jobs/${job.id as string}`);
      if (state.status === 'succeeded') break;
      expect(state.status).not.toBe('failed');
      await new Promise((r) => setTimeout(r, 200));
    }
    await go('/kb');
    const docRow = page.locator('tr[data-document]', { hasText: 'Refund policy' });
    await docRow.waitFor();
    await page.getByLabel('Search', { exact: true }).fill('refunds business days');
    await page.getByLabel('Mode').selectOption('text');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/#\/kb\?q=refunds/);
    const hit = page.locator('.results li').first();
    await hit.locator('pre', { hasText: 'five business days' }).waitFor();
    expect(await hit.textContent()).toContain('#1');
    expect(await hit.getByRole('link').textContent()).toBe('Refund policy');
    await shot('18-kb-search-1280');
    await hit.getByRole('link').click();
    await page.getByRole('heading', { name: 'Refund policy' }).waitFor();
    await page.locator('.results pre', { hasText: 'Parcels leave' }).waitFor();
    await shot('19-kb-document-1280');
    await page.getByRole('button', { name: 'Delete document' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No documents yet.').waitFor();
  });

  it('works at 390 pixels wide without sideways scrolling of the page', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, name] of [
      ['/runs', '12-runs-390'],
      ['/workflows/WF-001', '13-workflow-390'],
      ['/webhooks', '14-webhooks-390'],
      ['/files', '20-files-390'],
      ['/kb?q=refunds', '21-kb-390'],
    ] as const) {
      await go(hash);
      await page.locator('main h1').waitFor();
      // The runs page keeps its change-feed stream open: the network never goes idle there.
      if (hash === '/runs') await page.locator('p.live[data-feed="live"]').waitFor();
      else await page.waitForLoadState('networkidle');
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(390);
      await shot(name);
    }
    const run = await t.db('workflow_runs').where({ workflow_id: 'WF-001', status: 'succeeded' }).first('id');
    await go(`/runs/${run.id}`);
    await runStatusIs('succeeded');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot('15-run-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('is usable from the keyboard, with a visible focus', async () => {
    await go('/runs');
    await page.reload();
    await page.locator('main h1').waitFor();
    await page.keyboard.press('Tab');
    const first = await page.evaluate<string>('document.activeElement?.textContent');
    expect(first).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<{ text: string; outline: string }>(
      '({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })',
    );
    expect(focused.text).toBe('Runs');
    expect(focused.outline).not.toBe('none');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
  });

  it('a tenant does not see another tenant’s runs', async () => {
    const demoRun = (await t.db('workflow_runs').where({ tenant_id: 'demo' }).first('id')).id as string;
    await page.getByRole('button', { name: 'Sign out' }).click();
    const globex = await mintToken({ secret: JWT_SECRET, sub: 'gus', tenants: ['globex'], ttlSeconds: 600 });
    await page.getByLabel('Token', { exact: true }).fill(globex);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await go('/runs');
    await page.getByText('No runs yet').waitFor();
    expect(await page.locator('tr[data-run]').count()).toBe(0);
    await go(`/runs/${demoRun}`);
    await page
      .getByRole('alert')
      .filter({ hasText: `There is no run ${demoRun}` })
      .waitFor();
    await shot('16-other-tenant-1280');
    expect(pageErrors.filter((e) => !e.includes('404'))).toEqual([]);
  });
});
