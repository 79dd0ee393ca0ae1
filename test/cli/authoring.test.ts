/** What a new author meets on the command line: workflows, runs, config schemas and error messages. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

const SIGNUP = `apiVersion: atlas/v1
kind: Workflow
id: WF-062
name: Signup
trigger: { type: manual }
input:
  type: object
  required: [customer]
  properties:
    customer:
      type: object
      properties: { email: { type: string, format: email } }
config:
  type: object
  required: [team]
  properties: { team: { type: string } }
steps:
  - id: note
    uses: core.log
    with: { message: "{{ tenant.config.team }} welcomes {{ input.customer.email }}" }
`;

const MISTAKES = `apiVersion: atlas/v1
kind: Workflow
id: WF-061
trigger: { type: manual }
config:
  type: object
  properties: { team: { type: string } }
steps:
  - id: one
    uses: core.log
    if: "input.pro == true"
    with: { message: "{{ tenant.config.tem }}" }
  - id: two
    uses: core.lgo
    with: { message: hi }
`;

describe('the first hour on the command line', () => {
  const database = useTestDatabase();
  let dir: string;
  let bad: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'atlas-first-cli-'));
    bad = await mkdtemp(path.join(os.tmpdir(), 'atlas-first-bad-'));
    await writeFile(path.join(dir, 'WF-062.yaml'), SIGNUP);
    await writeFile(path.join(bad, 'WF-061.yaml'), MISTAKES);
    await database.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
    env = cliEnv({
      DATABASE_URL: database.url,
      ATLAS_MANIFESTS: dir,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      ATLAS_JWT_SECRET: 'first-hour-cli-tests-0123456789abcdef',
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(bad, { recursive: true, force: true });
  });

  it('lists, enables (config checked against the schema) and disables workflows for a tenant', async () => {
    const list = await runCli(['workflows', 'list', '--tenant', 'demo'], env);
    expect(list.stderr).toBe('');
    expect(list.stdout).toMatch(/^WF-062\s+disabled\s+manual\s+Signup/m);

    const wrong = await runCli(
      ['workflows', 'enable', 'WF-062', '--tenant', 'demo', '--config', '{"team": 5}'],
      env,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('The config of WF-062 is invalid.');
    expect(wrong.stderr).toContain('  - team must be a string, not an integer');

    const missing = await runCli(['workflows', 'enable', 'WF-062', '--tenant', 'demo'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('is missing the required field "team"');

    const ok = await runCli(
      ['workflows', 'enable', 'WF-062', '--tenant', 'demo', '--config', '{"team": "ops"}'],
      env,
    );
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('WF-062 is enabled for tenant demo (config {"team":"ops"}).');
    expect((await runCli(['workflows', 'list', '--tenant', 'demo'], env)).stdout).toMatch(
      /^WF-062\s+enabled/m,
    );
    const audit = await database
      .db('audit_log')
      .where({ action: 'workflows.set_enabled', entity_id: 'WF-062' });
    expect(audit).toHaveLength(1);

    const off = await runCli(['workflows', 'disable', 'WF-062', '--tenant', 'demo'], env);
    expect(off.stdout.trim()).toBe('WF-062 is disabled for tenant demo (config {"team":"ops"}).');

    const typo = await runCli(['workflows', 'enable', 'WF-026', '--tenant', 'demo'], env);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('there is no workflow WF-026 in the catalogue; did you mean "WF-062"?');
    const nobody = await runCli(['workflows', 'list', '--tenant', 'acme'], env);
    expect(nobody.stderr).toContain('there is no tenant "acme"');
  }, 60_000);

  it('prints the value that fails the input schema, and says how to follow a queued run', async () => {
    const bad = await runCli(
      ['run', 'WF-062', '--tenant', 'demo', '--input', '{"customer": {"email": "nope"}}'],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('  - customer.email "nope" is not a valid email');
    expect(bad.stderr).not.toContain('undefined');

    const queued = await runCli(
      ['run', 'WF-062', '--tenant', 'demo', '--input', '{"customer": {"email": "ada@example.com"}}'],
      env,
    );
    expect(queued.stderr).toBe('');
    const [, id] = /^Queued run ([0-9a-f-]{36}) of WF-062 \(queued\)\. Follow it: atlas runs show \1$/m.exec(
      queued.stdout,
    )!;

    const list = await runCli(['runs', 'list', '--tenant', 'demo'], env);
    expect(list.stdout).toContain(`${id}  WF-062  queued`);
    const show = await runCli(['runs', 'show', id!], env);
    expect(show.stdout).toMatch(new RegExp(`^Run ${id} of WF-062: queued\\n  note\\s+pending`));

    const cancel = await runCli(['runs', 'cancel', id!], env);
    expect(cancel.stderr).toBe('');
    expect(cancel.stdout).toContain(`Cancelled run ${id} of WF-062 (cancelled).`);
    const last = await runCli(['runs', 'show', 'last', '--tenant', 'demo'], env);
    expect(last.stdout).toMatch(new RegExp(`^Run ${id} of WF-062: cancelled\\n  note\\s+not run`));

    const retry = await runCli(['runs', 'retry', id!], env);
    expect(retry.stderr).toBe('');
    expect(retry.stdout).toContain(`Retrying run ${id} of WF-062 (queued).`);
    const other = await runCli(['runs', 'show', id!, '--tenant', 'acme'], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`there is no run ${id} for tenant acme`);
  }, 90_000);

  it('reports a string `if` with an example without hiding the other errors, and checks tenant.config', async () => {
    const r = await runCli(['validate', bad], env);
    expect(r.code).toBe(1);
    const file = path.join(bad, 'WF-061.yaml');
    expect(r.stderr).toContain(
      `${file}:11:9  Workflow WF-061: steps[0].if must be a JSON Logic rule (a map), not text; for example if: { "==": [{ var: input.pro }, true] }`,
    );
    expect(r.stderr).toContain(
      `${file}:12:23  Workflow WF-061: {{ tenant.config.tem }}: tenant.config has no field "tem" in the workflow config schema; did you mean "team"?`,
    );
    expect(r.stderr).toContain(`${file}:14:11  Workflow WF-061: connector "core" has no action "lgo"`);
  });

  it.each([
    [['valdate'], 2, 'atlas: unknown command "valdate". Did you mean "validate"?'],
    [['run', 'WF-06', '--dry-run'], 1, 'there is no workflow WF-06 in the catalogue; did you mean "WF-062"?'],
    [['run', 'WF-062', '--tenant', 'demo', '--input', '{"a": 1,}'], 2, '--input is not JSON: '],
    [['runs', 'lst'], 2, 'unknown action "lst"; did you mean "list"?'],
    [['workflows', 'enabel', 'WF-062', '--tenant', 'demo'], 2, 'did you mean "enable"?'],
  ])('answers %j with a hint', async (args, code, message) => {
    const r = await runCli(args, { ...env, ATLAS_MANIFESTS: `${dir}` });
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
  });

  it('words "known after the run" as information, and asks a webhook workflow for a sample trigger', async () => {
    const shipped = { ...env, ATLAS_MANIFESTS: '' };
    const plan = await runCli(['run', 'WF-010', '--dry-run'], shipped);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(
      'input:  known after the run: {{ steps.fetchStatus.output.body.components }} reads the output of step fetchStatus, which a real run gives (or --fixtures <dir>/fetchStatus.json)',
    );
    expect(plan.stdout).not.toContain('does not exist');
    const bare = await runCli(['run', 'WF-021', '--dry-run'], shipped);
    expect(bare.stdout).toContain(
      'Note: WF-021 starts from a webhook; give a sample event with --trigger <file.json> to render trigger.body.',
    );
    const event = path.join(dir, 'refund.json');
    await writeFile(event, JSON.stringify({ id: 'evt_1', type: 'charge.refunded', data: { object: {} } }));
    const other = await runCli(['run', 'WF-021', '--dry-run', '--trigger', event], shipped);
    expect(other.stdout).toContain(
      'Note: WF-021 does not list event type charge.refunded; a delivery of it would start no run.',
    );
  });

  it('warns when a token is minted for a tenant that does not exist', async () => {
    const r = await runCli(['token', '--tenant', 'acme'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(r.stderr.trim()).toBe(
      'warning: there is no tenant "acme": its API calls will be refused (403) until `atlas tenants add acme`',
    );
    expect((await runCli(['token', '--tenant', 'demo'], env)).stderr).toBe('');
  });

  it('prints the $schema line of each manifest folder relative to that folder', async () => {
    const out = path.join(dir, 'schemas');
    const r = await runCli(['schema', out], { ...env, ATLAS_MANIFESTS: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `manifests/workflows/  # yaml-language-server: $schema=${path.relative(path.resolve('manifests/workflows'), path.join(out, 'workflow.schema.json'))}`,
    );
    const inRepo = await runCli(['schema'], { ...env, ATLAS_MANIFESTS: '', ATLAS_HOME: dir });
    expect(inRepo.stdout).toContain(
      'manifests/workflows/  # yaml-language-server: $schema=../../.atlas/schemas/workflow.schema.json',
    );
  });
});
