import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { SECRET } from '../http/harness.ts';

const t = useTestDatabase();

describe('atlas token', () => {
  it('mints a token the API accepts: tenants, subject, lifetime, admin role', async () => {
    const env = cliEnv({ ATLAS_JWT_SECRET: SECRET, ATLAS_JWT_AUDIENCE: 'atlas-api', DATABASE_URL: t.url });
    await t
      .db('tenants')
      .insert([
        { id: 'demo', name: 'Demo' },
        { id: 'acme', name: 'Acme' },
      ])
      .onConflict('id')
      .ignore();
    const res = await runCli(
      ['token', '--tenant', 'demo', '--tenant', 'acme', '--sub', 'ada', '--ttl', '2h', '--admin'],
      env,
    );
    // The tenants test below starts from no tenants.
    await t.db('tenants').whereIn('id', ['demo', 'acme']).del();
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const { payload } = await jwtVerify(res.stdout.trim(), new TextEncoder().encode(SECRET), {
      algorithms: ['HS256'],
      audience: 'atlas-api',
    });
    expect(payload).toMatchObject({
      sub: 'ada',
      tenants: ['demo', 'acme'],
      roles: ['admin'],
      aud: 'atlas-api',
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(7200);
  });

  it('says what is missing instead of minting', async () => {
    const noSecret = await runCli(['token', '--tenant', 'demo'], cliEnv({ DATABASE_URL: t.url }));
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('ATLAS_JWT_SECRET is not set');
    const env = cliEnv({ ATLAS_JWT_SECRET: SECRET, DATABASE_URL: t.url });
    const noTenant = await runCli(['token'], env);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain('name a tenant with --tenant');
    const badTtl = await runCli(['token', '--tenant', 'demo', '--ttl', 'forever'], env);
    expect(badTtl.code).toBe(2);
  });
});

describe('atlas tenants', () => {
  it('adds, lists, disables and enables tenants, with audit entries', async () => {
    const env = cliEnv({ DATABASE_URL: t.url });
    const add = await runCli(['tenants', 'add', 'acme', '--name', 'Acme Inc'], env);
    expect([add.code, add.stdout.trim()]).toEqual([0, 'Added tenant acme.']);
    const again = await runCli(['tenants', 'add', 'acme'], env);
    expect([again.code, again.stderr.trim()]).toEqual([1, 'atlas tenants: tenant "acme" already exists']);
    expect((await runCli(['tenants', 'disable', 'acme'], env)).stdout.trim()).toBe(
      'Tenant acme is disabled.',
    );
    const list = await runCli(['tenants', 'list'], env);
    expect(list.stdout.trim()).toBe('acme  disabled  Acme Inc');
    expect((await runCli(['tenants', 'enable', 'acme'], env)).code).toBe(0);
    expect((await runCli(['tenants', 'disable', 'ghost'], env)).code).toBe(1);
    expect((await runCli(['tenants', 'add', 'Bad Id'], env)).code).toBe(2);
    const audit = await t.db('audit_log').whereNull('tenant_id').orderBy('id');
    expect(audit.map((r) => [r.action, r.entity_id, r.actor.startsWith('cli:')])).toEqual([
      ['tenants.create', 'acme', true],
      ['tenants.update', 'acme', true],
      ['tenants.update', 'acme', true],
    ]);
  });
});
