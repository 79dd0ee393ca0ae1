/**
 * Worker roles as separate processes: `atlas serve --no-worker` (the API alone),
 * `atlas worker --only jobs:EMAIL_SEND`, then `atlas worker --only runs,jobs:WEBHOOK_SEND`.
 * Work no running worker serves stays queued and shows per role in /metrics.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../engine/runtime/index.ts';
import { cliEnv, type LongRunning, logWorkflow, runCli, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { makeRuntimeForTest } from '../helpers/runtime.ts';

const HELLO = logWorkflow('WF-001', '{ type: manual }');
const NIGHTLY = logWorkflow('WF-053', '{ type: schedule, cron: "15 4 * * *" }');

describe('worker roles in separate processes', () => {
  const database = useTestDatabase();
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let runtime: Runtime;
  let closeRuntime: () => Promise<void>;
  const processes: LongRunning[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-roles-'));
    await fs.writeFile(path.join(dir, 'WF-001.yaml'), HELLO);
    await fs.writeFile(path.join(dir, 'WF-053.yaml'), NIGHTLY);
    await database.db('tenants').insert({ id: 'acme', name: 'Acme' });
    env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_MANIFESTS: dir,
      ATLAS_HOME: dir,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
      ATLAS_JWT_SECRET: 'roles-test-secret-0123456789abcdef',
      ATLAS_FEED: 'off',
      HOST: '127.0.0.1',
      PORT: '0',
    });
    ({ runtime, close: closeRuntime } = await makeRuntimeForTest(database, dir));
  });
  afterAll(async () => {
    for (const p of processes) await p.stop('SIGTERM');
    await closeRuntime?.();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const start = async (args: string[], ready: RegExp) => {
    const p = startCli(args, env);
    processes.push(p);
    return { p, match: await p.waitFor(ready, 60_000) };
  };
  const job = (id: string) => database.db('jobs').where({ id }).first();
  const run = (id: string) => database.db('workflow_runs').where({ id }).first();
  const done = (status: string) => !['queued', 'running'].includes(status);

  it('refuses a role it does not know, in one sentence', async () => {
    const res = await runCli(['worker', '--only', 'runs,jobs:FAX_SEND'], env);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^atlas worker: "jobs:FAX_SEND" is not a worker role; expected runs, scheduler, jobs/,
      ),
    ]);
  });

  it('serves each kind of work only where its role runs', async () => {
    const { match } = await start(['serve', '--no-worker'], /listening on (http:\/\/[\d.:]+)/);
    const api = match[1]!;
    const email = await start(['worker', '--only', 'jobs:EMAIL_SEND'], /Atlas worker started \((.*)\)/);
    expect(email.match[1]).toBe('jobs:EMAIL_SEND');

    const hook = await runtime.enqueueJob({
      tenantId: 'acme',
      type: 'WEBHOOK_SEND',
      payload: { url: 'http://127.0.0.1:9/hook', secret: 'HOOK_SECRET', type: 'ping', data: {} },
    });
    const { run: wf } = await runtime.trigger({ tenantId: 'acme', workflowId: 'WF-001' });
    const mail = await runtime.enqueueJob({
      tenantId: 'acme',
      type: 'EMAIL_SEND',
      payload: { to: ['ada@example.com'], subject: 'hi', text: 'hi', provider: 'resend' },
    });
    // The email worker takes its job (no mail provider is configured: it fails, recorded)...
    const mailed = await poll(async () => {
      const row = await job(mail.id);
      return done(row.status) ? row : undefined;
    }, 20_000);
    expect(mailed.attempts).toBeGreaterThan(0);
    // ...and nothing else: the run and the webhook job wait, visible per role in /metrics.
    const metrics = await poll(async () => {
      const text = await (await fetch(`${api}/metrics`)).text();
      return /atlas_queue_role_depth\{role="runs"\} 1\b/.test(text) &&
        /atlas_queue_role_depth\{role="jobs:WEBHOOK_SEND"\} 1\b/.test(text)
        ? text
        : undefined;
    }, 10_000);
    expect(metrics).toMatch(/atlas_queue_role_depth\{role="jobs:EMAIL_SEND"\} 0\b/);
    const age = metrics.match(/atlas_queue_role_oldest_job_age_seconds\{role="runs"\} ([\d.e-]+)/);
    expect(Number(age?.[1])).toBeGreaterThan(0);
    expect((await job(hook.id)).status).toBe('queued');
    expect((await job(hook.id)).attempts).toBe(0);
    expect((await run(wf.id)).status).toBe('queued');

    await start(
      ['worker', '--only', 'runs,jobs:WEBHOOK_SEND'],
      /Atlas worker started \(runs,jobs:WEBHOOK_SEND\)/,
    );
    await poll(async () => ((await run(wf.id)).status === 'succeeded' ? true : undefined), 20_000);
    await poll(async () => (done((await job(hook.id)).status) ? true : undefined), 20_000);

    // No process so far runs the schedules; the scheduler role does.
    const crontabs = () =>
      database.db
        .withSchema('graphile_worker')
        .from('_private_known_crontabs')
        .pluck('identifier') as Promise<string[]>;
    expect(await crontabs()).toEqual([]);
    await start(['worker', '--only', 'scheduler'], /Atlas worker started \(scheduler\)/);
    await poll(async () => ((await crontabs()).includes('schedule:WF-053') ? true : undefined), 20_000);
  });
});
