// Commands that act through a running engine's API (engine-file.ts finds it): a token signed
// with the engine's own secret, and one JSON request at a time over loopback HTTP. node:http
// rather than fetch: fetch loads its HTTP client on first use, which costs a short command
// more than the request itself.
import { request } from 'node:http';
import os from 'node:os';
import { resolveAuth } from '../auth/dev-secret.ts';
import { mintToken } from '../auth/mint.ts';
import type { Config } from '../config.ts';
import { type EngineFile, runningEngine } from './engine-file.ts';

export interface EngineAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * A token for the API, as `cli:<user>`, or undefined when this configuration has no secret to
 * sign with (tokens come from ATLAS_JWKS_URL's identity provider).
 */
export async function engineToken(
  config: Config,
  claims: { tenants: string[]; admin?: boolean; ttlSeconds: number },
): Promise<string | undefined> {
  const { auth } = await resolveAuth(config);
  if (auth.jwtSecret === undefined) return undefined;
  return mintToken({
    secret: auth.jwtSecret,
    sub: `cli:${os.userInfo().username}`,
    tenants: claims.tenants,
    admin: claims.admin ?? false,
    ttlSeconds: claims.ttlSeconds,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  });
}

export interface EngineSession {
  engine: EngineFile;
  token: string;
}

/** The engine running beside this command for the same database, with a token for it; or undefined. */
export async function engineSession(
  config: Config,
  claims: Parameters<typeof engineToken>[1],
): Promise<EngineSession | undefined> {
  const engine = await runningEngine(config);
  const token = engine && (await engineToken(config, claims));
  return engine && token ? { engine, token } : undefined;
}

/** One request; rejects with the socket's error (`code` ECONNREFUSED when nothing listens). */
export function engineRequest(
  url: string,
  opts: { method?: string; token: string; headers?: Record<string, string>; body?: unknown },
): Promise<EngineAnswer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: {
          authorization: `Bearer ${opts.token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
