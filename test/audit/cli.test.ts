import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../engine/db/audit.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook.ts';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { rewriteAndRechain } from './tamper.ts';

const t = useTestDatabase();
const ANCHOR_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let receiver: WebhookReceiver;
let dir: string;

const env = () => cliEnv({ DATABASE_URL: t.url, ATLAS_AUDIT_ANCHOR_SECRET: ANCHOR_SECRET });

beforeAll(async () => {
  receiver = await startWebhookReceiver(ANCHOR_SECRET);
  dir = await mkdtemp(path.join(os.tmpdir(), 'atlas-anchor-'));
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
  for (let i = 1; i <= 4; i++) {
    for (const tenantId of ['acme', 'globex']) {
      await recordAudit(t.db, {
        tenantId,
        actor: 'ada',
        action: 'runs.trigger',
        entityType: 'run',
        entityId: `run-${i}`,
        result: 'ok',
        summary: { i },
      });
    }
  }
});
afterAll(async () => {
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function rowId(tenant: string, seq: number): Promise<number> {
  return Number((await t.db('audit_log').where({ tenant_id: tenant, seq }).first('id')).id);
}

describe('atlas audit', () => {
  it('verifies, anchors to a file and a signed webhook, and names a row edited with psql', {
    timeout: 90_000,
  }, async () => {
    const ok = await runCli(['audit', 'verify'], env());
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toMatch(/^acme: intact, 4 rows, head seq 4 [0-9a-f]{64}$/m);
    expect(ok.stdout).toMatch(/^globex: intact, 4 rows/m);

    const anchored = await runCli(['audit', 'anchor', '--webhook', `${receiver.url}/anchors`], env());
    expect([anchored.code, anchored.stderr]).toEqual([0, '']);
    const anchor = JSON.parse(anchored.stdout);
    expect(anchor.chains.map((c: { tenantId: string; seq: number }) => [c.tenantId, c.seq])).toEqual([
      ['acme', 4],
      ['globex', 4],
    ]);
    expect(receiver.verified).toEqual([anchor]);
    const file = path.join(dir, 'anchors.jsonl');
    await writeFile(file, anchored.stdout);

    const id = await rowId('acme', 2);
    await promisify(execFile)('psql', [
      t.url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `alter table audit_log disable trigger audit_log_no_update_delete;
       update audit_log set summary = '{"i": 20}' where id = ${id};
       alter table audit_log enable trigger audit_log_no_update_delete;`,
    ]);
    const broken = await runCli(['audit', 'verify', '--tenant', 'acme'], env());
    expect(broken.code).toBe(1);
    expect(broken.stdout.trim()).toBe(`acme: EDITED at seq 2: row ${id} (seq 2) has an edited payload`);

    // globex: one row rewritten and the chain re-computed after it. Consistent in itself;
    // the anchor kept outside the database says otherwise.
    await rewriteAndRechain(t.db, 'globex', 3, { actor: 'mallory' });
    const alone = await runCli(['audit', 'verify', '--tenant', 'globex'], env());
    expect(alone.code).toBe(0);
    const checked = await runCli(
      ['audit', 'verify', '--tenant', 'globex', '--anchor', file, '--json'],
      env(),
    );
    expect(checked.code).toBe(1);
    const report = JSON.parse(checked.stdout);
    expect(report.ok).toBe(false);
    expect(report.chains[0].problem).toMatchObject({
      kind: 'rewritten',
      seq: 4,
      id: await rowId('globex', 4),
    });
  });

  it('erases old payloads and the chain still verifies', { timeout: 60_000 }, async () => {
    await t.db('tenants').insert({ id: 'old', name: 'Old' });
    await recordAudit(t.db, {
      tenantId: 'old',
      actor: 'a',
      action: 'x.y',
      entityType: 'x',
      result: 'ok',
      summary: { pii: 'ada@example.com' },
    });
    const erased = await runCli(
      ['audit', 'erase', '--tenant', 'old', '--before', new Date(Date.now() + 60_000).toISOString()],
      env(),
    );
    expect([erased.code, erased.stdout.trim().split(' older')[0]]).toEqual([
      0,
      'Erased the payloads of 1 audit entry',
    ]);
    const rows = await t.db('audit_log').where('tenant_id', 'old');
    expect(rows.map((r) => r.summary)).toEqual([null]);
    const ok = await runCli(['audit', 'verify', '--tenant', 'old'], env());
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/^old: intact, 1 row \(1 erased\)/)]);
  });

  it('answers a bad anchor file or bad options with one sentence', { timeout: 90_000 }, async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"chains": [{"tenantId": "acme"}]}');
    const res = await runCli(['audit', 'verify', '--anchor', bad], env());
    expect([res.code, res.stderr.trim()]).toEqual([
      1,
      `atlas audit: ${bad}: anchor 1 has a chain without tenantId, seq and hash`,
    ]);
    const missing = await runCli(['audit', 'verify', '--anchor', path.join(dir, 'nope.json')], env());
    expect(missing.stderr).toMatch(/^atlas audit: cannot read the anchor file .*nope\.json \(ENOENT\)\n$/);
    expect((await runCli(['audit', 'anchor', '--before', 'x'], env())).code).toBe(2);
    const wrongSecret = cliEnv({
      DATABASE_URL: t.url,
      ATLAS_AUDIT_ANCHOR_SECRET: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    const refused = await runCli(['audit', 'anchor', '--webhook', receiver.url], wrongSecret);
    expect([refused.code, refused.stderr.trim()]).toEqual([
      1,
      `atlas audit: ${new URL(receiver.url).origin} answered 400 to the anchor`,
    ]);
    const badSecret = await runCli(
      ['audit', 'anchor'],
      cliEnv({ DATABASE_URL: t.url, ATLAS_AUDIT_ANCHOR_SECRET: 'hunter2' }),
    );
    expect([badSecret.code, badSecret.stderr]).toEqual([
      1,
      expect.stringContaining('ATLAS_AUDIT_ANCHOR_SECRET must be'),
    ]);
  });
});
