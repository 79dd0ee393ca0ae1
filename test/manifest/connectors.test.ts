import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import {
  type ActionContext,
  ConnectorError,
  type HttpRequest,
  makeConnectorRegistry,
  splitUses,
} from '../../engine/connector-sdk/index.ts';

const registry = makeConnectorRegistry(builtinConnectors);
const logged: unknown[][] = [];
const log = { debug: () => {}, info: (...a: unknown[]) => logged.push(a), warn: () => {}, error: () => {} };

function ctx(extra: Partial<ActionContext> = {}): ActionContext {
  return {
    tenantId: 't1',
    connectorId: 'core',
    actionId: 'x',
    attempt: 1,
    maxAttempts: 3,
    idempotencyKey: 'run:step',
    signal: new AbortController().signal,
    log,
    http: { request: async () => Promise.reject(new Error('no http')), fetch },
    config: { settings: {} },
    secret: async () => undefined,
    accessToken: async () => '',
    run: { input: {}, trigger: {}, steps: {} },
    platform: {
      settings: async () => ({}),
      checkTokens: async () => Promise.reject(new Error('no platform budget')),
      spendTokens: async () => {},
    },
    ...extra,
  };
}

async function call(uses: string, input: unknown, extra: Partial<ActionContext> = {}) {
  return registry.action(uses)!.action.run(ctx(extra), input);
}

describe('connector registry', () => {
  it('compiles every built-in action schema in strict mode', () => {
    for (const entry of registry.actions()) {
      expect(() => registry.inputValidator(entry.uses)).not.toThrow();
      expect(() => registry.outputValidator(entry.uses)).not.toThrow();
    }
  });

  it('splits uses on the first dot and suggests close names', () => {
    expect(splitUses('msgraph.outlook.sendMail')).toEqual({
      connectorId: 'msgraph',
      actionId: 'outlook.sendMail',
    });
    expect(splitUses('core')).toBeUndefined();
    expect(registry.suggest('htp.request')).toBe('http.request');
    expect(registry.suggest('core.lgo')).toBe('core.log');
    expect(registry.suggest('zzz.qqq')).toBeUndefined();
  });

  it('validates inputs and outputs with readable sentences', () => {
    expect(registry.validateInput('core.log', { message: 'x' })).toEqual({ ok: true, issues: [] });
    const check = registry.validateInput('core.log', { mesage: 'x' });
    expect(check.issues.map((i) => i.message)).toEqual([
      'the input is missing the required field "message"',
      'unknown field "mesage" in the input; did you mean "message"?',
    ]);
    expect(registry.validateOutput('http.request', { status: 200, headers: {}, body: null }).ok).toBe(true);
  });

  it('refuses two connectors with the same id', () => {
    expect(() => makeConnectorRegistry([...builtinConnectors, builtinConnectors[0]!])).toThrow(
      'two connectors',
    );
  });
});

describe('core connector', () => {
  it('noop returns its input, set returns its value, log logs', async () => {
    await expect(call('core.noop', { a: 1 })).resolves.toEqual({ a: 1 });
    await expect(call('core.set', { value: [1, 2] })).resolves.toEqual([1, 2]);
    await expect(call('core.log', { message: 'hello' })).resolves.toEqual({
      message: 'hello',
      level: 'info',
    });
    expect(logged.at(-1)?.[1]).toBe('hello');
  });

  it('fail throws the chosen error class, only for the first `times` attempts', async () => {
    const error = await call('core.fail', {
      kind: 'retryable',
      code: 'boom',
      retryAfterMs: 50,
      times: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).toJSON()).toEqual({
      code: 'boom',
      message: 'failed on purpose',
      kind: 'retryable',
      retryable: true,
      retryAfterMs: 50,
    });
    await expect(call('core.fail', { times: 2 }, { attempt: 3 })).resolves.toEqual({ attempt: 3 });
    await expect(call('core.fail', { kind: 'auth' })).rejects.toMatchObject({ kind: 'auth' });
  });

  it('sleep waits, and stops when the step is aborted', async () => {
    await expect(call('core.sleep', { ms: 5 })).resolves.toEqual({ sleptMs: expect.any(Number) });
    const controller = new AbortController();
    const pending = call('core.sleep', { ms: 60_000 }, { signal: controller.signal });
    controller.abort(new Error('timeout'));
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('http.request', () => {
  it('sends through ctx.http and returns status, headers and the parsed body', async () => {
    const seen: HttpRequest[] = [];
    const http = {
      fetch,
      async request(req: HttpRequest) {
        seen.push(req);
        const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
        return {
          status: 201,
          headers,
          text: () => '{"ok":true}',
          json: <T>() => ({ ok: true }) as T,
          bytes: () => new Uint8Array(),
        };
      },
    };
    const output = await call(
      'http.request',
      { method: 'POST', url: 'https://x.test/a', json: { a: 1 }, timeout: '2s', query: { q: 1 } },
      { http },
    );
    expect(output).toEqual({
      status: 201,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { ok: true },
    });
    expect(seen[0]).toEqual({
      method: 'POST',
      url: 'https://x.test/a',
      json: { a: 1 },
      timeoutMs: 2000,
      query: { q: 1 },
    });
  });
});
