/**
 * `GET /v1/connectors`: every connector the engine runs, built-in or plugin, with its actions;
 * `GET /v1/connectors/{id}` adds the actions' schemas. Credentials show by name only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type ApiEngine, startApiEngine } from '../secrets/engine.ts';

interface ConnectorView {
  id: string;
  auth: Record<string, unknown>;
  origin: { type: string; source?: string; sdkVersion?: string; package?: { name: string } };
  actions: Array<{ id: string; uses: string; input?: unknown; jobType?: string }>;
}

describe('GET /v1/connectors', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  beforeAll(async () => {
    api = await startApiEngine(database);
  });
  afterAll(() => api?.stop());

  it('lists the built-in connectors with their actions and how they authenticate', async () => {
    const res = await api.call('GET', '/v1/connectors');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: ConnectorView[] };
    const ids = items.map((c) => c.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['http', 'stripe', 'google', 'webhook']));
    const http = items.find((c) => c.id === 'http')!;
    expect(http.origin).toEqual({ type: 'builtin' });
    expect(http.actions).toEqual([expect.objectContaining({ id: 'request', uses: 'http.request' })]);
    expect(http.actions[0]!.input).toBeUndefined();
    expect(items.find((c) => c.id === 'google')!.auth).toEqual({ type: 'oauth', provider: 'google' });
    const webhook = items.find((c) => c.id === 'webhook')!;
    expect(webhook.actions.find((a) => a.id === 'send')!.jobType).toBe('WEBHOOK_SEND');
  });

  it('shows one connector with its schemas, and answers 404 for an unknown one', async () => {
    const res = await api.call('GET', '/v1/connectors/http');
    expect(res.status).toBe(200);
    const http = (await res.json()) as ConnectorView;
    expect(http.actions[0]!.input).toMatchObject({ type: 'object', required: ['url'] });
    const missing = await api.call('GET', '/v1/connectors/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(((await missing.json()) as { detail: string }).detail).toBe('There is no connector "nope".');
  });

  it('needs a token', async () => {
    const res = await fetch(`${api.url}/v1/connectors`);
    expect(res.status).toBe(401);
  });
});
