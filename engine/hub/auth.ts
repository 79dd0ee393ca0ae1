/**
 * The credentials of a call made with `auth` (`HttpRequest.auth`): named tenant secrets or an
 * integration's OAuth token, turned into headers by the hub so the action never holds them.
 * An integration's token goes only to the hosts its provider manifest lists in `apiHosts`, and
 * only over https (plain http on loopback, for local services and tests).
 */
import { ConnectorError, type HttpAuth } from '../connector-sdk/index.ts';

export interface AuthSources {
  /** A tenant secret; `undefined` when not set. */
  secret(name: string): Promise<string | undefined>;
  /** The tenant's token for the provider (throws `not_connected` when there is none). */
  accessToken(provider: string): Promise<string>;
  /** The provider manifest's `apiHosts`; `undefined` when the catalogue has no such provider. */
  apiHosts(provider: string): readonly string[] | undefined;
}

export interface AuthHeaders {
  headers: Record<string, string>;
  /** The header values to redact everywhere (a Basic header is the secret, encoded). */
  values: string[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

export async function authHeaders(auth: HttpAuth, url: URL, sources: AuthSources): Promise<AuthHeaders> {
  if ('integration' in auth) {
    checkApiHost(auth.integration, url, sources.apiHosts(auth.integration));
    const token = await sources.accessToken(auth.integration);
    return one('authorization', `Bearer ${token}`);
  }
  if ('bearer' in auth) return one('authorization', `Bearer ${await required(sources, auth.bearer)}`);
  if ('basic' in auth) {
    const password = await required(sources, auth.basic.password);
    const encoded = Buffer.from(`${auth.basic.username}:${password}`, 'utf8').toString('base64');
    return one('authorization', `Basic ${encoded}`);
  }
  return one(auth.header.name.toLowerCase(), await required(sources, auth.header.secret));
}

function one(name: string, value: string): AuthHeaders {
  return { headers: { [name]: value }, values: [value] };
}

async function required(sources: AuthSources, name: string): Promise<string> {
  const value = await sources.secret(name);
  if (value === undefined || value === '')
    throw ConnectorError.fatal(
      'secret_missing',
      `the tenant has no secret ${name}; set it with PUT /v1/secrets/${name}`,
    );
  return value;
}

/** Refuses to send a provider's token to a host its manifest does not list. */
export function checkApiHost(provider: string, url: URL, hosts: readonly string[] | undefined): void {
  if (hosts === undefined)
    throw ConnectorError.fatal(
      'unknown_provider',
      `no OAuthProvider manifest has the id "${provider}"; auth.integration names one`,
    );
  if (hosts.length === 0)
    throw ConnectorError.fatal(
      'host_not_allowed',
      `the ${provider} OAuthProvider declares no apiHosts, so its token is sent nowhere`,
    );
  const host = url.host.toLowerCase();
  const listed = hosts.some((pattern) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && !host.includes(':') : host === pattern,
  );
  if (!listed)
    throw ConnectorError.fatal(
      'host_not_allowed',
      `${host} is not among the apiHosts of the ${provider} OAuthProvider (${hosts.join(', ')}); its token is not sent there`,
    );
  if (url.protocol !== 'https:' && !LOOPBACK.test(url.hostname))
    throw ConnectorError.fatal(
      'insecure_url',
      `the ${provider} token is sent over https only, not to ${url.protocol}//${host}`,
    );
}
