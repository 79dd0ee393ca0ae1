import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-060
trigger: { type: manual }
input:
  type: object
  properties: { pro: { type: boolean } }
steps:
  - id: proNote
    uses: core.set
    if: { "==": [{ var: input.pro }, true] }
    with: { value: { note: pro customer } }
  - id: say
    uses: core.log
    with:
      message: "note: {{ steps.proNote.output.note }}"
  - id: after
    uses: core.log
    with: { message: done }
`;

describe('a template reading a step that can be skipped', () => {
  const database = useTestDatabase();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'atlas-skippable-'));
    await writeFile(path.join(dir, 'WF-060.yaml'), WORKFLOW);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is a warning of `atlas validate`, with its place and the fallback to write', async () => {
    const r = await runCli(['validate', dir], cliEnv());
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `${dir}/WF-060.yaml:16:23  warning: Workflow WF-060: {{ steps.proNote.output.note }}: step "proNote" may be skipped (it has an \`if\`), and then steps.proNote.output.note does not exist; add a fallback: {{ steps.proNote.output.note ?? '' }}`,
    );
    expect(r.stdout).toContain('1 manifests valid');
    expect(r.stdout).toContain('1 warning');
  });

  it('is a line with severity "warning" in --format json', async () => {
    const r = await runCli(['validate', '--format', 'json', dir], cliEnv());
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ severity: 'warning', keyword: 'skippable', line: 16, column: 23 }),
    ]);
  });

  it('fails at run time saying the step was skipped and how to fall back', async () => {
    await database.db('tenants').insert({ id: 'demo', name: 'Demo' }).onConflict('id').ignore();
    const env = cliEnv({
      DATABASE_URL: database.url,
      ATLAS_MANIFESTS: dir,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    const r = await runCli(['run', 'WF-060', '--tenant', 'demo', '--input', '{"pro":false}', '--wait'], env);
    expect(r.code).toBe(1);
    // The steps after the failure did not run, and the failure is logged at warn with its reason.
    expect(r.stdout).toMatch(/after\s+not run\s+attempts 0/);
    expect(r.stdout).toMatch(/"level":40.*"msg":"run:failed step say: \{\{ steps.proNote.output.note \}\}/);
    expect(r.stdout).toContain(
      `{{ steps.proNote.output.note }}: steps.proNote.output.note does not exist because step "proNote" was skipped; add a fallback: {{ steps.proNote.output.note ?? '' }}`,
    );
  });
});
