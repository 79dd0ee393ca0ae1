/**
 * `http.request` with `auth`: a workflow reads a Google Sheet with the tenant's connected
 * Google account (the shipped provider manifest's scopes, through the real OAuth flow, against
 * a fake that enforces them), and calls services with named tenant secrets. Credentials never
 * appear in the ledger or the audit log; a token never goes to a host outside `apiHosts`.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { auditWritesSettled } from '../../engine/db/audit.ts';
import { silentLogger } from '../../engine/log.ts';
import { completeAuthorization, type OAuthDeps, startAuthorization } from '../../engine/oauth/index.ts';
import type { RunDetail } from '../../engine/runtime/index.ts';
import { type GoogleSheetsFake, startGoogleSheets } from '../fakes/google-sheets.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { keyring } from '../oauth/setup.ts';

const CLIENT = { id: 'atlas-google-client', secret: 'atlas-google-client-secret' };
const SHEETS = 'https://www.googleapis.com/auth/spreadsheets';

const workflow = (id: string, uses: string, input: unknown) => `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
steps:
  - id: call
    uses: ${uses}
    with: ${JSON.stringify(input)}
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 1, jitter: 0 } }
`;

/** The shipped google manifest, with its endpoints and API host moved to the fake. */
async function googleManifest(fake: FakeServer, id = 'google', dropScope?: string): Promise<string> {
  const shipped = YAML.parse(await fs.readFile('manifests/oauth/google.yaml', 'utf8')) as Record<
    string,
    unknown
  >;
  const scopes = (shipped['scopes'] as string[]).filter((s) => s !== dropScope);
  return YAML.stringify({
    ...shipped,
    id,
    scopes,
    authorizationUrl: `${fake.url}/o/oauth2/v2/auth`,
    tokenUrl: `${fake.url}/token`,
    revocationUrl: `${fake.url}/revoke`,
    apiHosts: [new URL(fake.url).host],
  });
}

describe('http.request with auth', () => {
  const database = useTestDatabase();
  let google: GoogleSheetsFake;
  let service: FakeServer;
  let te: TestEngine;
  let oauthDeps: OAuthDeps;

  beforeAll(async () => {
    google = await startGoogleSheets(CLIENT);
    service = await startFake((req) => json(200, { seen: req.header('x-probe') ?? 'none' }));
    const values = `${google.url}/v4/spreadsheets/sheet-1/values/Orders!A1:B2`;
    te = await startTestEngine(database, {
      tenants: ['acme', 'globex'],
      env: {
        ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        GOOGLE_CLIENT_ID: CLIENT.id,
        GOOGLE_CLIENT_SECRET: CLIENT.secret,
      },
      manifests: {
        'google.yaml': await googleManifest(google),
        'google-noscope.yaml': await googleManifest(google, 'google-noscope', SHEETS),
        'WF-960.yaml': workflow('WF-960', 'http.request', { url: values, auth: { integration: 'google' } }),
        'WF-961.yaml': workflow('WF-961', 'http.request', {
          url: values.replace('127.0.0.1', 'localhost'),
          auth: { integration: 'google' },
        }),
        'WF-962.yaml': workflow('WF-962', 'http.request', {
          url: values,
          auth: { integration: 'google-noscope' },
        }),
        'WF-963.yaml': workflow('WF-963', 'http.request', {
          url: `${service.url}/bearer`,
          auth: { bearer: 'SERVICE_TOKEN' },
        }),
        'WF-964.yaml': workflow('WF-964', 'http.request', {
          url: `${service.url}/basic`,
          auth: { basic: { username: 'ada', password: 'SERVICE_PASSWORD' } },
        }),
        'WF-965.yaml': workflow('WF-965', 'http.request', {
          url: `${service.url}/header`,
          auth: { header: { name: 'X-Api-Key', secret: 'SERVICE_KEY' } },
        }),
      },
    });
    await te.startWorker();
    oauthDeps = {
      db: database.db,
      log: silentLogger,
      catalogue: te.services.catalogue,
      keyring,
      env: te.config.env,
      publicUrl: te.config.oauth.publicUrl,
    };
  });
  afterAll(async () => {
    await te?.stop();
    await google?.close();
    await service?.close();
  });

  /** Connects the tenant's account through the real flow: authorize, consent, callback. */
  async function connect(tenantId: string, provider: string): Promise<void> {
    const start = await startAuthorization(oauthDeps, { tenantId, userSub: 'ops@acme', provider });
    const consent = await fetch(start.url, { redirect: 'manual' });
    const back = new URL(consent.headers.get('location') ?? '');
    const result = await completeAuthorization(oauthDeps, provider, back.searchParams, start.binding.value);
    if (!result.ok) throw new Error(`connect failed: ${result.error}`);
  }

  const attempts = (run: RunDetail) => run.steps.find((s) => s.id === 'call')!.attempts;

  /** Everything the ledger and the audit log hold for the tenant, as text. */
  async function ledgerText(): Promise<string> {
    await auditWritesSettled(database.db);
    const steps = await database.db('step_runs').select('input', 'output', 'error');
    const audit = await database.db('audit_log').select('action', 'summary');
    return JSON.stringify({ steps, audit });
  }

  it('the shipped google manifest requests the Sheets scope and lists the Sheets host', async () => {
    const shipped = YAML.parse(await fs.readFile('manifests/oauth/google.yaml', 'utf8'));
    expect(shipped.scopes).toContain(SHEETS);
    expect(shipped.apiHosts).toContain('sheets.googleapis.com');
  });

  it('reads a sheet with the tenant’s Google token; the token is nowhere in the ledger', async () => {
    await connect('acme', 'google');
    const run = await te.runToEnd('WF-960');
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(attempts(run)[0]!.output).toMatchObject({
      status: 200,
      body: {
        range: 'Orders!A1:B2',
        values: [
          ['Order', 'Total'],
          ['A-1001', '42.50'],
        ],
      },
    });
    const token = [...google.tokens.keys()].at(-1)!;
    expect(google.tokens.get(token)).toContain(SHEETS);
    const text = await ledgerText();
    expect(text).not.toContain(token);
    // The rendered input keeps the URL; `auth` is redacted as a whole, names included.
    expect(text).toContain('"auth":"[REDACTED]"');
    expect(text).toContain('"action":"connector.call"');
  });

  it('renews a token Google refuses with 401 once, within the same attempt', async () => {
    for (const token of google.tokens.keys()) google.revoke(token);
    const refreshes = google.requests.filter((r) => r.path === '/token').length;
    const run = await te.runToEnd('WF-960');
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(attempts(run)).toHaveLength(1);
    expect(google.requests.filter((r) => r.path === '/token').length).toBe(refreshes + 1);
  });

  it('refuses to send the token to a host outside apiHosts', async () => {
    const before = google.requests.length;
    const run = await te.runToEnd('WF-961');
    expect(run.status).toBe('failed');
    expect(attempts(run)).toHaveLength(1);
    expect(attempts(run)[0]!.error).toMatchObject({
      kind: 'fatal',
      code: 'host_not_allowed',
      message: expect.stringMatching(/^localhost:\d+ is not among the apiHosts of the google OAuthProvider/),
    });
    expect(google.requests.length).toBe(before);
  });

  it('a provider the tenant never connected is a fatal auth error naming it', async () => {
    const run = await te.runToEnd('WF-960', {}, 'globex');
    expect(run.status).toBe('failed');
    expect(attempts(run)).toHaveLength(1);
    expect(attempts(run)[0]!.error).toMatchObject({
      kind: 'auth',
      code: 'not_connected',
      message: 'tenant globex has no google integration; connect one through GET /v1/oauth/google/authorize',
    });
  });

  it('a token without the Sheets scope is refused by the fake', async () => {
    await connect('acme', 'google-noscope');
    const run = await te.runToEnd('WF-962');
    expect(run.status).toBe('failed');
    expect(attempts(run)[0]!.error).toMatchObject({
      kind: 'fatal',
      status: 403,
      message: expect.stringContaining('insufficient authentication scopes'),
    });
  });

  it('sends named secrets as bearer, basic and header credentials, and never records them', async () => {
    await te.services.secrets.put('acme', 'SERVICE_TOKEN', 'tok-7c1e0a9b33');
    await te.services.secrets.put('acme', 'SERVICE_PASSWORD', 'pw-52d1f0e8aa');
    await te.services.secrets.put('acme', 'SERVICE_KEY', 'key-9a8b7c6d5e');
    for (const id of ['WF-963', 'WF-964', 'WF-965']) {
      const run = await te.runToEnd(id);
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    }
    const header = (path: string, name: string) =>
      service.requests.find((r) => r.path === path)?.header(name);
    expect(header('/bearer', 'authorization')).toBe('Bearer tok-7c1e0a9b33');
    expect(header('/basic', 'authorization')).toBe(
      `Basic ${Buffer.from('ada:pw-52d1f0e8aa').toString('base64')}`,
    );
    expect(header('/header', 'x-api-key')).toBe('key-9a8b7c6d5e');
    const text = await ledgerText();
    for (const value of [
      'tok-7c1e0a9b33',
      'pw-52d1f0e8aa',
      'key-9a8b7c6d5e',
      Buffer.from('ada:pw-52d1f0e8aa').toString('base64'),
    ])
      expect(text).not.toContain(value);
  });

  it('a secret that is not set fails the step, naming it', async () => {
    const run = await te.runToEnd('WF-963', {}, 'globex');
    expect(run.status).toBe('failed');
    expect(attempts(run)[0]!.error).toMatchObject({
      kind: 'fatal',
      code: 'secret_missing',
      message: 'the tenant has no secret SERVICE_TOKEN; set it with PUT /v1/secrets/SERVICE_TOKEN',
    });
  });
});
