/**
 * API token verification (JWT bearer, RFC 6750), with `jose`. Who may call: HS256 tokens
 * signed with ATLAS_JWT_SECRET, and RS256/ES256 tokens whose key is in the JWKS at
 * ATLAS_JWKS_URL. The algorithm decides the key, never the other way round, so a token
 * "signed" with the public RSA key as an HMAC secret (HS/RS confusion) finds no key.
 */
import { createHash } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from '../config.ts';

/** Who is calling, from a verified token. */
export interface Principal {
  /** The token's `sub`: the actor in the audit log. */
  sub: string;
  /** Tenants the token grants (`tenants` claim). */
  tenants: readonly string[];
  /** Platform operator (`roles` claim holds `admin`): may manage tenants. */
  admin: boolean;
}

const HMAC_ALGORITHMS = ['HS256'] as const;
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256'] as const;

/** Clock skew tolerated on `exp` and `nbf` between the issuer and this machine. */
const CLOCK_TOLERANCE_S = 5;

/** Why a token was refused; the message is safe to send back. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** The keys could not be fetched: not the caller's fault. */
export class KeySourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}

export interface TokenVerifier {
  readonly algorithms: readonly string[];
  verify(token: string): Promise<Principal>;
}

/** Undefined when neither a secret nor a JWKS URL is configured: every API call is refused. */
export function makeTokenVerifier(auth: AuthConfig): TokenVerifier | undefined {
  const secret = auth.jwtSecret === undefined ? undefined : new TextEncoder().encode(auth.jwtSecret);
  const jwks =
    auth.jwksUrl === undefined
      ? undefined
      : createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 3000 });
  if (!secret && !jwks) return undefined;
  const algorithms = [...(secret ? HMAC_ALGORITHMS : []), ...(jwks ? PUBLIC_KEY_ALGORITHMS : [])];
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (secret && (HMAC_ALGORITHMS as readonly string[]).includes(header.alg)) return secret;
    if (jwks && (PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(header.alg)) return jwks(header, token);
    throw new TokenError(`tokens signed with ${header.alg} are not accepted`);
  };
  const options: JWTVerifyOptions = {
    algorithms,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  };
  return {
    algorithms,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, getKey, options);
        return toPrincipal(payload);
      } catch (err) {
        throw classify(err);
      }
    },
  };
}

export interface VerifierCacheOptions {
  /** Entries kept; the oldest goes first. */
  maxEntries?: number;
  /** A token is verified again after this long, even before its `exp` (a key set may rotate). */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Remembers tokens `inner` accepted, by their SHA-256, until their `exp` or `maxAgeMs`,
 * whichever is first: a client sending the same token with every request costs one signature
 * check, not one per request. Concurrent first uses share one verification; refusals are
 * never kept.
 */
export function cachedVerifier(inner: TokenVerifier, opts: VerifierCacheOptions = {}): TokenVerifier {
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { principal: Promise<Principal>; until: number }>();
  return {
    algorithms: inner.algorithms,
    verify(token) {
      const key = createHash('sha256').update(token).digest('base64');
      const hit = entries.get(key);
      if (hit && hit.until > now()) return hit.principal;
      entries.delete(key);
      let exp: unknown;
      try {
        exp = decodeJwt(token).exp;
      } catch {
        return inner.verify(token); // malformed: the verifier says why
      }
      const principal = inner.verify(token);
      if (typeof exp !== 'number') return principal;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      const entry = { principal, until: Math.min(now() + maxAgeMs, exp * 1000) };
      entries.set(key, entry);
      principal.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return principal;
    },
  };
}

function toPrincipal(payload: JWTPayload): Principal {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenError('the token has no subject');
  const tenants = payload.tenants ?? [];
  if (!Array.isArray(tenants) || !tenants.every((t) => typeof t === 'string')) {
    throw new TokenError('the "tenants" claim must be a list of tenant ids');
  }
  const roles = payload.roles ?? [];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw new TokenError('the "roles" claim must be a list of role names');
  }
  return { sub: payload.sub, tenants, admin: roles.includes('admin') };
}

/** jose's errors name the failed check; keep that, drop everything else. */
function classify(err: unknown): Error {
  if (err instanceof TokenError) return err;
  if (err instanceof errors.JWKSTimeout)
    return new KeySourceError('the key set did not answer in time', { cause: err });
  if (err instanceof errors.JWKSInvalid)
    return new KeySourceError('the key set is not a valid JWKS', { cause: err });
  if (err instanceof errors.JWTExpired) return new TokenError('the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed)
    return new TokenError(`the token's "${err.claim}" claim is not acceptable`);
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new TokenError('the token is signed with an algorithm that is not accepted');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenError('no key matches the token');
  }
  if (err instanceof errors.JOSEError)
    return new TokenError('the token is malformed or its signature does not verify');
  // createRemoteJWKSet surfaces network failures as plain errors.
  return new KeySourceError('the key set cannot be fetched', { cause: err });
}
