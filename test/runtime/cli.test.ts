import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

describe('atlas run', () => {
  const database = useTestDatabase();

  it('prints the plan of WF-010 with --dry-run, calling nothing', async () => {
    const r = await runCli(['run', 'WF-010', '--dry-run'], cliEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Plan of WF-010 \(manifest [0-9a-f]{12}\), nothing will be called:/);
    expect(r.stdout).toContain('+ 1. fetchStatus  (http.request)');
    expect(r.stdout).toMatch(/known after the run/);
    expect(r.stdout).toMatch(/\d+ to run, \d+ skipped, 0 with errors\./);
  });

  it('uses recorded fixtures for outputs only a real run knows', async () => {
    const r = await runCli(
      ['run', 'WF-010', '--dry-run', '--fixtures', 'test/fixtures/dry-run/WF-010'],
      cliEnv(),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[fixture fetchStatus.json]');
    expect(r.stdout).toContain('"status":"Partially Degraded Service"');
    expect(r.stdout).toContain('"url":"[secret DIGEST_WEBHOOK_URL]"');
    expect(r.stdout).not.toContain('known after the run');
  });

  it('shows which steps `if` would skip and computes read-only steps, as JSON too', async () => {
    const r = await runCli(
      ['run', 'WF-001', '--dry-run', '--input', '{"name":"Ada"}', '--format', 'json'],
      cliEnv(),
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      steps: Array<{ id: string; action: string; input?: unknown; output?: unknown }>;
    };
    expect(plan.steps.map((s) => [s.id, s.action])).toEqual([
      ['greeting', 'run'],
      ['say', 'run'],
      ['shout', 'skip'],
    ]);
    expect(plan.steps[1]!.input).toEqual({ message: 'Hello, Ada!' });
  });

  it('shows each item of a forEach loop with its rendered input in a dry run', async () => {
    const invoices = [
      { id: 'INV-1', email: 'a@example.com', amountDue: 10 },
      { id: 'INV-2', email: 'b@example.com', amountDue: 20 },
    ];
    const r = await runCli(['run', 'WF-083', '--dry-run', '--input', JSON.stringify({ invoices })], cliEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+ 1. remind  (core.log)');
    expect(r.stdout).toContain('    forEach: 2 items');
    expect(r.stdout).toContain('[1] input: {"message":"Reminder 1: invoice INV-2 (20) to b@example.com"}');
  });

  it('runs the shipped loop WF-083 to the end, one attempt per invoice', async () => {
    await database.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
    const env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    const invoices = [1, 2, 3].map((i) => ({ id: `INV-${i}`, email: `c${i}@example.com`, amountDue: i }));
    const r = await runCli(
      ['run', 'WF-083', '--tenant', 'demo', '--input', JSON.stringify({ invoices }), '--wait'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Run [0-9a-f-]{36} of WF-083: succeeded/);
    const rows = await database.db('step_runs').where('step_id', 'like', 'remind[%').orderBy('step_id');
    expect(rows.map((row) => [row.step_id, row.status, row.input.message])).toEqual([
      ['remind[0]', 'succeeded', 'Reminder 0: invoice INV-1 (1) to c1@example.com'],
      ['remind[1]', 'succeeded', 'Reminder 1: invoice INV-2 (2) to c2@example.com'],
      ['remind[2]', 'succeeded', 'Reminder 2: invoice INV-3 (3) to c3@example.com'],
    ]);
  });

  it('shows when a durable wait would resume in a dry run, and runs WF-084 through its wait', async () => {
    const plan = await runCli(
      ['run', 'WF-084', '--dry-run', '--input', '{"email":"ada@example.com"}'],
      cliEnv(),
    );
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/waits: {2}the run parks and goes on at \d{4}-\d\d-\d\dT/);
    expect(plan.stdout).toContain(
      '"message":"Getting-started guide for ada@example.com, 259200000 ms after sign-up"',
    );
    await database.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
    const env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    const input = JSON.stringify({ email: 'ada@example.com', after: '2s' });
    const r = await runCli(['run', 'WF-084', '--tenant', 'demo', '--input', input, '--wait'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Run [0-9a-f-]{36} of WF-084: succeeded/);
  });

  it('runs WF-001 to the end with --wait when no worker is running, and prints its steps', async () => {
    await database.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
    const env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    const r = await runCli(['run', 'WF-001', '--tenant', 'demo', '--input', '{"name":"Ada"}', '--wait'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Run [0-9a-f-]{36} of WF-001: succeeded/);
    expect(r.stdout).toMatch(/greeting\s+succeeded\s+attempts 1/);
    expect(r.stdout).toMatch(/shout\s+skipped/);
  });

  it.each([
    [['run'], 2, 'name exactly one workflow id'],
    [['run', 'WF-001'], 2, '--tenant is required'],
    [['run', 'WF-001', '--tenant', 'demo', '--input', '{nope'], 2, '--input is not JSON'],
    [['run', 'WF-404', '--dry-run'], 1, 'there is no workflow WF-404 in the catalogue'],
  ])('answers %j with exit code %i and a clear message', async (args, code, message) => {
    const r = await runCli(args, cliEnv());
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports input that does not fit the workflow schema', async () => {
    const env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    const r = await runCli(['run', 'WF-001', '--tenant', 'demo', '--input', '{"name":""}'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The input of WF-001 is invalid.');
  });
});
