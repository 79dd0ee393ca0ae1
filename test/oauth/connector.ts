/**
 * A connector as a real one would be written against an OAuth provider: it asks the context
 * for the tenant's token, and on a 401 asks once more with `forceRefresh` and retries once.
 * Its action calls the authorization server's userinfo endpoint, which accepts only live
 * access tokens. It runs in the hub's real ActionContext, with the engine's token source.
 */

import { MemoryAuditSink } from '../../engine/audit/entry.ts';
import {
  type ActionContext,
  ConnectorError,
  defineAction,
  defineConnector,
} from '../../engine/connector-sdk/index.ts';
import { makeActionContext } from '../../engine/hub/context.ts';
import { MemoryRateLimiter } from '../../engine/hub/rate-limit.ts';
import type { TokenSource } from '../../engine/runtime/deps.ts';
import { memoryLogger } from '../hub/context.ts';

/** The documented pattern (README, "Connecting accounts"): one forced refresh, one retry. */
export async function withToken<T>(
  ctx: ActionContext,
  provider: string,
  call: (token: string) => Promise<T>,
): Promise<T> {
  try {
    return await call(await ctx.accessToken(provider));
  } catch (err) {
    if (!(err instanceof ConnectorError) || err.kind !== 'auth' || err.status !== 401) throw err;
    return call(await ctx.accessToken(provider, { forceRefresh: true }));
  }
}

const whoami = defineAction<Record<string, never>, { sub: string }>({
  id: 'whoami',
  description: 'The connected account, from the userinfo endpoint.',
  input: { type: 'object' },
  output: { type: 'object', required: ['sub'], properties: { sub: { type: 'string' } } },
  async run(ctx) {
    const res = await withToken(ctx, 'idp-post', (token) =>
      ctx.http.request({ url: '/me', headers: { authorization: `Bearer ${token}` } }),
    );
    return res.json<{ sub: string }>();
  },
});

export const idpConnector = defineConnector({
  id: 'idptest',
  description: 'Calls the test authorization server with the tenant token.',
  auth: { type: 'oauth', provider: 'idp-post' },
  actions: [whoami],
});

export async function runWhoami(
  issuer: string,
  tokens: TokenSource,
  tenantId: string,
): Promise<{ sub: string }> {
  const ctx = makeActionContext({
    connector: idpConnector,
    actionId: 'whoami',
    input: {},
    tenantId,
    attempt: 1,
    maxAttempts: 1,
    idempotencyKey: 'test',
    signal: AbortSignal.timeout(10_000),
    log: memoryLogger([]),
    config: { baseUrl: issuer, settings: {} },
    audit: new MemoryAuditSink(),
    rateLimiter: new MemoryRateLimiter(),
    secret: async () => undefined,
    accessToken: (provider, opts) => tokens.accessToken(tenantId, provider, opts),
  });
  return (await whoami.run(ctx, {})) as { sub: string };
}
