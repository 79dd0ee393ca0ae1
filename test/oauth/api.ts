/**
 * The Atlas API on 127.0.0.1 with the OAuth providers of setup.ts behind a real authorization
 * server, and {@link Browser}: a user's browser as Atlas sees it, keeping Atlas' cookies by
 * path across requests (the browser binding of an authorization in progress).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSetCookie } from 'cookie';
import type { Knex } from 'knex';
import { mintToken } from '../../engine/auth/mint.ts';
import { loadConfig } from '../../engine/config.ts';
import { startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import { makeTokenSource } from '../../engine/oauth/index.ts';
import { type AuthorizationServer, startAuthorizationServer } from './authorization-server.ts';
import { catalogueOf, ENCRYPTION_KEY, ENV, oauthDeps, providerManifests, redirectUris } from './setup.ts';

const SECRET = 'oauth-test-secret-0123456789abcdef0123';

export interface OAuthApi {
  /** The API's base URL, which is also ATLAS_PUBLIC_URL. */
  url: string;
  idp: AuthorizationServer;
  bearer(tenants?: string[], sub?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startOAuthApi(db: Knex, env: Record<string, string> = {}): Promise<OAuthApi> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp = await startAuthorizationServer(redirectUris(url));
  const config = loadConfig({
    ...ENV,
    ATLAS_JWT_SECRET: SECRET,
    ATLAS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    ATLAS_PUBLIC_URL: url,
    LOG_LEVEL: 'silent',
    ...env,
  });
  // The API role alone, served by the server above (its URL is ATLAS_PUBLIC_URL).
  const engine = await startEngine({
    config,
    log: makeLogger('silent', false),
    http: true,
    worker: false,
    listen: false,
    database: { db },
    overrides: {
      catalogue: catalogueOf(providerManifests(idp.issuer)),
      connectors: [],
      tokens: makeTokenSource(oauthDeps(db, idp, { publicUrl: url })),
    },
  });
  server.on('request', engine.app!.callback());
  return {
    url,
    idp,
    bearer: (tenants = ['acme'], sub = 'user-1') =>
      mintToken({ secret: SECRET, sub, tenants, ttlSeconds: 300 }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idp.close();
      await engine.stop();
    },
  };
}

/** A browser's cookies for Atlas' origin: sent where their path matches, dropped when expired. */
export class Browser {
  readonly #cookies = new Map<
    string,
    { value: string; path: string; httpOnly: boolean; sameSite: unknown }
  >();

  /** A navigation (no redirect followed): the cookies whose path matches go along. */
  async get(url: string | URL, headers: Record<string, string> = {}): Promise<Response> {
    const target = new URL(url);
    const cookie = [...this.#cookies]
      .filter(
        ([, c]) => target.pathname === c.path || target.pathname.startsWith(`${c.path.replace(/\/$/, '')}/`),
      )
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    const res = await fetch(target, {
      redirect: 'manual',
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const c = parseSetCookie(line);
      if (c.maxAge !== undefined && c.maxAge <= 0) this.#cookies.delete(c.name);
      else
        this.#cookies.set(c.name, {
          value: c.value ?? '',
          path: c.path ?? '/',
          httpOnly: c.httpOnly === true,
          sameSite: c.sameSite,
        });
    }
    return res;
  }

  /** Adds a cookie by hand, as an attacker can in their own browser. */
  set(name: string, value: string, path: string): void {
    this.#cookies.set(name, { value, path, httpOnly: true, sameSite: 'lax' });
  }

  cookies() {
    return new Map(this.#cookies);
  }
}
