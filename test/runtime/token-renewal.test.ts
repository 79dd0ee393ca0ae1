import { describe, expect, it } from 'vitest';
import {
  ConnectorError,
  defineAction,
  defineConnector,
  makeConnectorRegistry,
} from '../../engine/connector-sdk/index.ts';
import { MemoryAuditSink, MemoryRateLimiter } from '../../engine/hub/index.ts';
import { silentLogger } from '../../engine/log.ts';
import type { RuntimeDeps, TokenSource } from '../../engine/runtime/deps.ts';
import { executeAttempt } from '../../engine/runtime/execute.ts';

/** A provider that accepts only the newest token it issued. */
function provider() {
  let current = 'token-1';
  let issued = 1;
  const calls: Array<{ provider: string; forceRefresh: boolean }> = [];
  const tokens: TokenSource = {
    async accessToken(_tenant, name, opts) {
      calls.push({ provider: name, forceRefresh: !!opts?.forceRefresh });
      if (opts?.forceRefresh) current = `token-${++issued}`;
      return current;
    },
  };
  return { tokens, calls };
}

const connector = (accepts: (token: string) => boolean) =>
  defineConnector({
    id: 'calendar',
    description: 'test',
    auth: { type: 'oauth', provider: 'google' },
    actions: [
      defineAction({
        id: 'list',
        description: 'test',
        input: { type: 'object' },
        output: { type: 'object' },
        async run(ctx) {
          const token = await ctx.accessToken('google');
          if (!accepts(token))
            throw ConnectorError.auth('unauthorized', 'the token was refused', { status: 401 });
          return { token };
        },
      }),
    ],
  });

function deps(tokens: TokenSource, registry: ReturnType<typeof makeConnectorRegistry>): RuntimeDeps {
  return {
    db: undefined as never,
    log: silentLogger,
    catalogue: undefined as never,
    connectors: registry,
    secrets: { get: async () => undefined },
    tokens,
    audit: new MemoryAuditSink(),
    rateLimiter: new MemoryRateLimiter(),
    connectorConfig: () => ({ settings: {} }),
    processId: 'test',
  };
}

const request = (registry: ReturnType<typeof makeConnectorRegistry>) => ({
  entry: registry.action('calendar.list')!,
  input: {},
  tenantId: 'acme',
  attempt: 1,
  maxAttempts: 1,
  idempotencyKey: 'k',
  timeoutMs: 5_000,
});

describe('a token refused with 401', () => {
  it('is renewed once and the call tried once more', async () => {
    const p = provider();
    const registry = makeConnectorRegistry([connector((t) => t === 'token-2')]);
    const result = await executeAttempt(deps(p.tokens, registry), request(registry));
    expect(result).toEqual({ ok: true, output: { token: '[REDACTED]' } });
    expect(p.calls).toEqual([
      { provider: 'google', forceRefresh: false },
      { provider: 'google', forceRefresh: true },
      { provider: 'google', forceRefresh: false },
    ]);
  });

  it('fails as an auth error when the renewed token is refused too, without a third try', async () => {
    const p = provider();
    const registry = makeConnectorRegistry([connector(() => false)]);
    const result = await executeAttempt(deps(p.tokens, registry), request(registry));
    expect(result).toMatchObject({ ok: false, failure: { kind: 'auth', status: 401 } });
    expect(p.calls.filter((c) => c.forceRefresh)).toHaveLength(1);
  });

  it('fails with the renewal error when the grant is gone (re-authorize)', async () => {
    const registry = makeConnectorRegistry([connector(() => false)]);
    const tokens: TokenSource = {
      async accessToken(_t, _p, opts) {
        if (opts?.forceRefresh)
          throw ConnectorError.auth('invalid_grant', 'google access was revoked; re-authorize');
        return 'token-1';
      },
    };
    const result = await executeAttempt(deps(tokens, registry), request(registry));
    expect(result).toMatchObject({ ok: false, failure: { kind: 'auth', code: 'invalid_grant' } });
  });
});
