// The run page's waits, signals, loop items and child runs, the workflows' next run, and the
// development sign-in, in a real browser (Debian's chromium through playwright-core). The
// page runs in Asia/Kolkata (UTC+5:30) so that a time shown in UTC would be visibly wrong.
// Screenshots at 1280 and 390 pixels go to test-artifacts/ui/.

import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { ARTIFACTS, CHROMIUM, type Console, JWT_SECRET, signInWithToken, startConsole } from './harness.ts';

if (!CHROMIUM) {
  console.warn(
    'test/ui/run-inspector.test.ts skipped: no chromium binary (apt-get install -y chromium; .ci/run does)',
  );
}

const ZONE = 'Asia/Kolkata';
const wf = (id: string, name: string, body: string) =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\nname: ${name}\n${body}`;
const FIXTURES: Record<string, string> = {
  'WF-910.yaml': wf(
    'WF-910',
    'Approval',
    `trigger: { type: manual }
steps:
  - id: approval
    uses: core.waitForSignal
    with: { name: approval, timeout: 1h }
  - id: decided
    uses: core.set
    with: { value: "{{ steps.approval.output.approved }}" }
`,
  ),
  'WF-911.yaml': wf(
    'WF-911',
    'Sleeps',
    `trigger: { type: manual }
steps:
  - id: nap
    uses: core.sleep
    with: { duration: 2h }
`,
  ),
  'WF-912.yaml': wf(
    'WF-912',
    'Many items',
    `trigger: { type: manual }
input:
  type: object
  required: [items]
  properties: { items: { type: array, maxItems: 1000 } }
steps:
  - id: each
    uses: core.fail
    forEach: "{{ input.items }}"
    concurrency: 50
    onItemError: continue
    retry: { maxAttempts: 2, backoff: { initial: 10ms } }
    with: { kind: retryable, times: "{{ item }}", message: "item {{ loop.index }} refused" }
`,
  ),
  'WF-913.yaml': wf(
    'WF-913',
    'Every morning',
    `trigger: { type: schedule, cron: "30 3 * * *" }
steps:
  - id: hello
    uses: core.log
    with: { message: morning }
`,
  ),
};

const t = useTestDatabase();
let c: Console;

/** The run's status in the database. */
const statusOf = async (id: string) => (await t.db('workflow_runs').where({ id }).first('status'))?.status;

async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How the page shows a time: medium date and time, in the page's zone and locale. */
const shown = (iso: string) =>
  new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium', timeZone: ZONE }).format(
    new Date(iso),
  );

describe.skipIf(!CHROMIUM)('the run inspector in a browser', () => {
  beforeAll(async () => {
    c = await startConsole({
      databaseUrl: t.url,
      copy: ['manifests/workflows/WF-001-hello.yaml'],
      fixtures: FIXTURES,
      context: { timezoneId: ZONE, locale: 'en-US' },
    });
  }, 120_000);
  beforeEach((ctx) => {
    ctx.onTestFailed(() => c.shot(`failed-${ctx.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`));
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('offers no development sign-in with ATLAS_JWT_SECRET, and says why', async () => {
    await c.page.goto(c.url);
    await c.page.getByRole('heading', { name: 'Sign in to Atlas' }).waitFor();
    await c.page
      .getByText('offered only when Atlas listens on loopback with its development secret')
      .waitFor();
    expect(await c.page.getByRole('form', { name: 'Development sign-in' }).count()).toBe(0);
    await signInWithToken(c.page, c.token);
  });

  it('shows what a run waits for, sends a checked and confirmed signal, and lists it as received', async () => {
    const id = await c.startRun('WF-910');
    await until(async () => (await statusOf(id)) === 'waiting');
    await c.go(`/runs/${id}`);
    await c.runStatusIs('waiting');
    const wait = c.page.locator('li[data-wait="approval"]');
    await wait.waitFor();
    expect(await wait.textContent()).toContain('waits for the signal approval');
    // The timeout, in the viewer's zone, with UTC on hover.
    const attempt = (
      (await c.call('GET', `/v1/runs/${id}`)).steps as Array<{ attempts: Array<{ retryAt: string }> }>
    )[0]!.attempts[0]!;
    const time = wait.locator('time');
    expect(await time.textContent()).toBe(shown(attempt.retryAt));
    expect(await time.getAttribute('title')).toBe(
      `UTC: ${attempt.retryAt.replace('T', ' ').replace('Z', '')}`,
    );
    const none = c.page.getByText('No signal received yet.');
    await none.waitFor();
    expect(await none.textContent()).toContain(`POST /v1/runs/${id}/signals/<name>`);
    await c.page.locator('.gantt .bar.status-waiting').waitFor();
    await c.shot('22-run-waiting-signal-1280');

    // From the keyboard: the button opens the dialog with the awaited name filled in.
    await c.page.getByRole('button', { name: 'Send signal' }).focus();
    await c.page.keyboard.press('Enter');
    const dialog = c.page.getByRole('dialog', { name: 'Send a signal to this run' });
    await dialog.waitFor();
    const name = dialog.getByLabel('Name');
    expect(await name.inputValue()).toBe('approval');
    expect(await c.page.evaluate<string>("document.activeElement?.getAttribute('name')")).toBe('name');
    const payload = dialog.getByLabel('Payload (JSON)');
    await payload.fill('{ approved: true }');
    await dialog.getByRole('button', { name: 'Review' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'The payload is not JSON' }).waitFor();
    expect(await payload.getAttribute('aria-invalid')).toBe('true');
    await name.fill('not a name');
    await payload.fill('{"approved": true, "note": "looks fine"}');
    await dialog.getByRole('button', { name: 'Review' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'The name must start with a letter' }).waitFor();
    await name.fill('approval');
    await dialog.getByRole('button', { name: 'Review' }).click();
    // The confirmation shows exactly what goes; nothing is sent before it.
    const send = dialog.getByRole('button', { name: 'Send the signal' });
    await send.waitFor();
    expect(await dialog.locator('pre').textContent()).toContain('"note": "looks fine"');
    // Focus moves to the confirming button once it is drawn (an effect after the render).
    await expect
      .poll(() => c.page.evaluate<string>('document.activeElement?.textContent'), { timeout: 5_000 })
      .toBe('Send the signal');
    await c.shot('23-send-signal-1280');
    expect(await t.db('run_signals').where({ run_id: id })).toHaveLength(0);
    await send.click();
    await c.page.getByRole('status').filter({ hasText: 'Signal approval delivered' }).waitFor();
    await c.runStatusIs('succeeded');
    const received = c.page.locator('li[data-signal="approval"]');
    await received.waitFor();
    expect(await received.textContent()).toContain('sent by ada');
    expect(await received.locator('pre').textContent()).toContain('looks fine');
    expect(await c.page.locator('li[data-wait]').count()).toBe(0);
    await c.shot('24-run-signal-received-1280');
  });

  it('says why a signal is refused, and keeps the dialog open', async () => {
    const id = await c.startRun('WF-911');
    await until(async () => (await statusOf(id)) === 'waiting');
    await c.go(`/runs/${id}`);
    const wait = c.page.locator('li[data-wait="nap"]');
    await wait.waitFor();
    expect(await wait.textContent()).toMatch(/sleeps until .+, in 1 h 59 min/);
    await c.page.getByRole('button', { name: 'Send signal' }).click();
    const dialog = c.page.getByRole('dialog');
    await dialog.getByText('The run waits for no signal now').waitFor();
    await dialog.getByLabel('Name').fill('approval');
    await dialog.getByRole('button', { name: 'Review' }).click();
    await dialog.getByRole('button', { name: 'Send the signal' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'not waiting for a signal "approval"' }).waitFor();
    await c.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await statusOf(id)).toBe('waiting');
    await c.page.getByRole('button', { name: 'Cancel run' }).click();
    await c.page.getByRole('dialog').getByRole('button', { name: 'Cancel the run' }).click();
    await c.runStatusIs('cancelled');
  });

  it('groups a thousand loop items under their step, with counts by status and each item’s attempts', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => (i % 100 === 7 ? 2 : 1));
    const id = await c.startRun('WF-912', { items });
    await until(async () => (await statusOf(id)) === 'succeeded', 90_000);
    const started = performance.now();
    await c.go(`/runs/${id}`);
    await c.runStatusIs('succeeded');
    const step = c.page.locator('details.step[data-step="each"]');
    await step.locator(':scope > summary').click();
    await step.locator('[data-count="succeeded"]').waitFor();
    const loadMs = performance.now() - started;
    expect(await step.locator('[data-count="succeeded"]').textContent()).toBe('succeeded 990');
    expect(await step.locator('[data-count="failed"]').textContent()).toBe('failed 10');
    // One timeline row for the loop, not a thousand; fifty items drawn at first.
    expect(await c.page.locator('.gantt-row').count()).toBe(1);
    expect(await c.page.locator('.gantt-label').textContent()).toBe('each ×1000');
    expect(await step.locator('details[data-item]').count()).toBe(50);
    await step.getByRole('button', { name: /Show 50 more items \(950 not shown\)/ }).click();
    expect(await step.locator('details[data-item]').count()).toBe(100);
    // From the keyboard: the failed ones, then the first of them opened, with its input,
    // output and error.
    await step.getByRole('button', { name: /^All 1000/ }).focus();
    await c.page.keyboard.press('Tab');
    await c.page.keyboard.press('Tab');
    const focused = await c.page.evaluate<{ text: string; outline: string }>(
      '({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })',
    );
    expect(focused).toEqual({ text: 'failed 10', outline: 'solid' });
    await c.page.keyboard.press('Space');
    expect(await step.locator('[data-count="failed"]').getAttribute('aria-pressed')).toBe('true');
    expect(await step.locator('details[data-item]').count()).toBe(10);
    await c.page.keyboard.press('Tab');
    expect(await c.page.evaluate<string>('document.activeElement.textContent')).toContain('each[7]');
    await c.page.keyboard.press('Enter');
    await step.locator('details[data-item="7"][open]').getByText('item 7 refused').first().waitFor();
    const item = step.locator('details[data-item="107"]');
    await item.locator(':scope > summary').click();
    await item.getByText('item 107 refused').first().waitFor();
    expect(await item.locator(':scope > summary').textContent()).toContain('each[107]');
    await step.getByRole('button', { name: /^All 1000/ }).click();
    const ok = step.locator('details[data-item="3"]');
    await ok.locator(':scope > summary').click();
    // Its first attempt failed and was retried; the second succeeded.
    expect(await ok.locator(':scope > summary').textContent()).toContain('2 attempts');
    await ok.locator('pre', { hasText: '"attempt": 2' }).waitFor();
    await ok.getByText('item 3 refused').first().waitFor();
    await c.shot('25-run-loop-items-1280');
    // Loaded, drawn and opened in well under the time a viewer would notice (a loaded machine).
    expect(loadMs).toBeLessThan(5000);
  }, 120_000);

  it('links a child run to its parent and the parent’s step to its children', async () => {
    // `workflow.run` fills calledBy and calls; until it exists here, the answers carry them
    // for two real runs.
    const parent = await c.startRun('WF-001', { name: 'Parent' });
    const child = await c.startRun('WF-001', { name: 'Child' });
    await until(
      async () => (await statusOf(child)) === 'succeeded' && (await statusOf(parent)) === 'succeeded',
    );
    await c.page.route(/\/v1\/runs\/[0-9a-f-]{36}$/, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      if (body.id === parent)
        body.calls = [{ runId: child, workflowId: 'WF-001', stepId: 'greeting', status: 'succeeded' }];
      if (body.id === child) body.calledBy = { runId: parent, stepId: 'greeting' };
      await route.fulfill({ response: res, json: body });
    });
    try {
      await c.go(`/runs/${child}`);
      const up = c.page.locator(`a[data-parent="${parent}"]`);
      await up.waitFor();
      expect(await c.page.locator('dl.facts').textContent()).toContain('step greeting');
      await up.click();
      await c.page.getByRole('heading', { name: `Run ${parent}` }).waitFor();
      const step = c.page.locator('details.step[data-step="greeting"]');
      expect(await step.locator(':scope > summary').textContent()).toContain('1 child run');
      await step.locator(':scope > summary').click();
      await c.shot('26-run-child-runs-1280');
      await c.page.setViewportSize({ width: 390, height: 844 });
      expect(await c.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await c.shot('26-run-child-runs-390');
      await c.page.setViewportSize({ width: 1280, height: 800 });
      await step.locator(`li[data-child="${child}"] a`).click();
      await c.page.getByRole('heading', { name: `Run ${child}` }).waitFor();
    } finally {
      await c.page.unroute(/\/v1\/runs\/[0-9a-f-]{36}$/);
    }
  });

  it('shows when a scheduled workflow runs next for this tenant, in the viewer’s zone', async () => {
    await c.go('/workflows');
    const row = c.page.locator('tr[data-workflow="WF-913"]');
    await row.waitFor();
    expect(await row.locator('td.next').textContent()).toContain('not enabled');
    await row.getByRole('switch').click();
    await row.locator('td.next time').waitFor();
    const listed = (
      (await c.call('GET', '/v1/workflows')).items as Array<{ id: string; nextRun: string }>
    ).find((w) => w.id === 'WF-913')!;
    expect(await row.locator('td.next time').textContent()).toBe(shown(listed.nextRun));
    // 03:30 UTC is 09:00 in Kolkata.
    expect(await row.locator('td.next time').textContent()).toContain('9:00:00 AM');
    expect(await c.page.locator('tr[data-workflow="WF-001"] td.next').textContent()).toBe('—');
    await c.shot('27-workflows-next-run-1280');
  });

  it('fits the new views at 390 pixels', async () => {
    await c.page.setViewportSize({ width: 390, height: 844 });
    try {
      const waiting = await c.startRun('WF-910');
      await until(async () => (await statusOf(waiting)) === 'waiting');
      const loop = (await t.db('workflow_runs').where({ workflow_id: 'WF-912' }).first('id')).id as string;
      for (const [hash, name] of [
        [`/runs/${waiting}`, '28-run-waiting-390'],
        [`/runs/${loop}`, '29-run-loop-390'],
        ['/workflows', '30-workflows-390'],
      ] as const) {
        await c.go(hash);
        await c.page.locator('main h1').waitFor();
        if (hash.startsWith('/runs/')) await c.page.locator('dl.facts .status').waitFor();
        else await c.page.locator('tr[data-workflow]').first().waitFor();
        if (name === '29-run-loop-390') await c.page.locator('details.step summary').first().click();
        expect(await c.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
          390,
        );
        await c.shot(name);
      }
      await c.go(`/runs/${waiting}`);
      await c.page.getByRole('button', { name: 'Send signal' }).click();
      await c.page.getByRole('dialog').getByLabel('Payload (JSON)').waitFor();
      expect(await c.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await c.shot('31-send-signal-390');
      await c.page.keyboard.press('Escape');
    } finally {
      await c.page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('offers the development sign-in on loopback, and refuses it through a proxy', async () => {
    const dev = await c.serveAlso({ devSignIn: { secret: JWT_SECRET } });
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(dev.url!);
      const form = page.getByRole('form', { name: 'Development sign-in' });
      await form.waitFor();
      await form.getByLabel('Tenant').selectOption('demo');
      await page.screenshot({ path: path.join(ARTIFACTS, '32-dev-sign-in-1280.png') });
      await form.getByRole('button', { name: 'Sign in as developer' }).click();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      await page.locator('tr[data-run]').first().waitFor();
      expect(await page.locator('.who').textContent()).toContain('demo');
      // The same server behind a proxy: not offered, and the reason is shown.
      const proxied = await c.browser.newPage({ extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.9' } });
      try {
        await proxied.goto(dev.url!);
        await proxied.getByText('not offered through a proxy').waitFor();
        expect(await proxied.getByRole('form', { name: 'Development sign-in' }).count()).toBe(0);
      } finally {
        await proxied.close();
      }
    } finally {
      await page.close();
    }
    expect(c.errors.filter((e) => !e.includes('409'))).toEqual([]);
  });
});
