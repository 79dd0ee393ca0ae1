/**
 * A real, certified OAuth 2.0 / OpenID Connect authorization server on 127.0.0.1: the npm
 * package `oidc-provider` (v9), configured like the providers Atlas meets: authorization code
 * with PKCE required, refresh tokens that rotate on every use (as X, TikTok and Microsoft do),
 * client credentials, RFC 7009 revocation. Two clients: one authenticates with HTTP Basic at
 * the token endpoint (like X), the other with form parameters (like Google).
 *
 * Every request is counted by method and path, so a test can prove how many token requests
 * a scenario caused. Its development interactions (login, then consent) are driven by plain
 * HTTP requests in {@link authorizeThroughBrowser}.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENTS = {
  basic: { id: 'atlas-basic', secret: 'basic-client-secret-0123456789abcdef' },
  post: { id: 'atlas-post', secret: 'post-client-secret-0123456789abcdef' },
} as const;

export interface AuthorizationServer {
  issuer: string;
  /** Requests seen, as `METHOD /path`. */
  requests: string[];
  count(path: string, method?: string): number;
  /** Revokes a token as the user would by removing the app's access at the provider. */
  revoke(token: string, client: keyof typeof CLIENTS): Promise<number>;
  close(): Promise<void>;
}

export async function startAuthorizationServer(redirectUris: string[]): Promise<AuthorizationServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      client(CLIENTS.basic, 'client_secret_basic', redirectUris),
      client(CLIENTS.post, 'client_secret_post', redirectUris),
    ],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
    },
    // Every refresh consumes the refresh token and issues a new one; reusing a consumed one
    // is answered with invalid_grant and revokes the whole grant (replay detection).
    rotateRefreshToken: true,
    scopes: ['openid', 'offline_access', 'email', 'api:read'],
    claims: { openid: ['sub'], email: ['email'] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@example.com` }),
    }),
    ttl: { AccessToken: 3600, ClientCredentials: 3600, RefreshToken: 14 * 24 * 3600 },
  });
  provider.on('server_error', () => {});
  const requests: string[] = [];
  const callback = provider.callback();
  server.on('request', (req, res) => {
    requests.push(`${req.method} ${new URL(req.url ?? '/', issuer).pathname}`);
    callback(req, res);
  });
  return {
    issuer,
    requests,
    count: (path, method = 'POST') => requests.filter((r) => r === `${method} ${path}`).length,
    async revoke(token, which) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token,
          client_id: CLIENTS[which].id,
          client_secret: CLIENTS[which].secret,
        }),
      });
      await res.arrayBuffer();
      return res.status;
    },
    close: () => closeServer(server),
  };
}

function client(
  c: { id: string; secret: string },
  method: 'client_secret_basic' | 'client_secret_post',
  redirectUris: string[],
) {
  return {
    client_id: c.id,
    client_secret: c.secret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    revocation_endpoint_auth_method: 'client_secret_post',
    scope: 'openid offline_access email api:read',
  };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** Cookies kept across the redirects of one browser session. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.#cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface BrowserOptions {
  /** The login the user signs in with (the account's `sub`). */
  login?: string;
  /** Abort at the consent screen: the provider answers `error=access_denied`. */
  deny?: boolean;
}

/**
 * What a browser does between Atlas' authorize answer and its callback: follows the
 * provider's redirects, signs in on the login page, approves (or denies) the consent page,
 * and stops at the redirect back to Atlas. Returns that callback URL.
 */
export async function authorizeThroughBrowser(
  authorizeUrl: string,
  redirectUri: string,
  opts: BrowserOptions = {},
): Promise<URL> {
  const jar = new CookieJar();
  let next: { url: string; method: 'GET' | 'POST'; body?: URLSearchParams } = {
    url: authorizeUrl,
    method: 'GET',
  };
  for (let hop = 0; hop < 12; hop++) {
    const res = await fetch(next.url, {
      method: next.method,
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(next.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(next.body ? { body: next.body } : {}),
    });
    jar.take(res);
    const location = res.headers.get('location');
    if (location) {
      await res.arrayBuffer();
      const target = new URL(location, next.url);
      if (target.href.startsWith(redirectUri)) return target;
      next = { url: target.href, method: 'GET' };
      continue;
    }
    next = submitForm(await res.text(), next.url, opts);
  }
  throw new Error('the authorization server never redirected back');
}

function submitForm(
  html: string,
  pageUrl: string,
  opts: BrowserOptions,
): { url: string; method: 'POST' | 'GET'; body?: URLSearchParams } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
  if (!action || !prompt) throw new Error(`unexpected page at ${pageUrl}: ${html.slice(0, 200)}`);
  const url = new URL(action, pageUrl).href;
  if (prompt === 'consent' && opts.deny) return { url: `${url}/abort`, method: 'GET' };
  const body = new URLSearchParams({ prompt });
  if (prompt === 'login') {
    body.set('login', opts.login ?? 'ada');
    body.set('password', 'any password');
  }
  return { url, method: 'POST', body };
}
