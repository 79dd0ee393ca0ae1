/** Development tokens: HS256 with the configured secret (`atlas token`, tests, the bench). */
import { SignJWT } from 'jose';

export interface MintOptions {
  secret: string;
  sub: string;
  tenants: readonly string[];
  admin?: boolean;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
}

export async function mintToken(opts: MintOptions): Promise<string> {
  const jwt = new SignJWT({ tenants: [...opts.tenants], ...(opts.admin ? { roles: ['admin'] } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + opts.ttlSeconds);
  if (opts.issuer !== undefined) jwt.setIssuer(opts.issuer);
  if (opts.audience !== undefined) jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(opts.secret));
}
