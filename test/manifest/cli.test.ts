import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const INVALID = 'test/fixtures/manifests/invalid';
const run = promisify(execFile);

async function atlas(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run('node', ['bin/atlas.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'atlas-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('atlas validate', () => {
  it('exits 0 on the shipped catalogue', async () => {
    const result = await atlas(['validate', 'manifests/']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('exits 1 on a typo in a step id, naming the line and the right id', async () => {
    const result = await atlas(['validate', `${INVALID}/template-step-typo.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${INVALID}/template-step-typo.yaml:14:23  Workflow WF-100: {{ steps.fetchInvoice.output }}: there is no step "fetchInvoice"; did you mean "fetchInvoices"?`,
    );
  });

  it('prints one JSON object per error with --format json', async () => {
    const result = await atlas(['validate', '--format', 'json', `${INVALID}/unknown-top-field.yaml`]);
    expect(result.code).toBe(1);
    const errors = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(errors).toHaveLength(2);
    expect(errors[1]).toEqual({
      file: `${INVALID}/unknown-top-field.yaml`,
      line: 6,
      column: 1,
      kind: 'Workflow',
      id: 'WF-100',
      keyword: 'additionalProperties',
      message: 'unknown field "setps" in the manifest; did you mean "steps"?',
      severity: 'error',
    });
  });

  it('exits 2 on a usage error', async () => {
    expect((await atlas(['validate', '--format', 'xml'])).code).toBe(2);
    expect((await atlas(['validate', '--nope'])).code).toBe(2);
  });

  it('reports a missing path and invalid YAML with positions, without a stack trace', async () => {
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: atlas/v1\nkind: [Workflow\n');
    const result = await atlas(['validate', join(tmp, 'absent'), broken]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(tmp, 'absent')}:1:1  manifest: cannot read`);
    expect(result.stderr).toMatch(/broken\.yaml:\d+:\d+ {2}manifest: invalid YAML/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads ATLAS_MANIFESTS when no path is given', async () => {
    writeFileSync(join(tmp, 'one.yaml'), readFileSync(join(ROOT, 'manifests/workflows/WF-001-hello.yaml')));
    const result = await atlas(['validate'], {
      ATLAS_MANIFESTS: `${tmp}:${join(ROOT, 'manifests/webhooks')}`,
    });
    expect(result.code).toBe(1); // broken.yaml from the test above is in the same directory
    rmSync(join(tmp, 'broken.yaml'), { force: true });
    const again = await atlas(['validate'], {
      ATLAS_MANIFESTS: `${tmp}:${join(ROOT, 'manifests/webhooks')}`,
    });
    expect(again.stdout).toContain('4 manifests valid');
    expect(again.code).toBe(0);
  });

  it('atlas schema writes the schemas for editors', async () => {
    const result = await atlas(['schema', join(tmp, 'schemas')]);
    expect(result.code).toBe(0);
    const workflow = JSON.parse(readFileSync(join(tmp, 'schemas/workflow.schema.json'), 'utf8')) as {
      title: string;
    };
    expect(workflow.title).toBe('Workflow');
  });
});
