/**
 * authPlugin: every non-public route needs `Authorization: Bearer <JWT>`. Refusals answer 401
 * with the RFC 6750 challenge, so a client knows to fetch a new token.
 */
import type { Next } from 'koa';
import { KeySourceError, TokenError, type TokenVerifier } from '../../auth/verify.ts';
import type { Logger } from '../../log.ts';
import { HttpProblem, problem } from '../../problem.ts';
import type { ApiContext } from '../context.ts';

const REALM = 'Bearer realm="atlas"';
/** Tokens longer than this are not ours; refuse before parsing. */
const MAX_TOKEN_LENGTH = 8192;

export function authPlugin(verifier: TokenVerifier | undefined, log: Logger) {
  return async (ctx: ApiContext, next: Next) => {
    const spec = ctx.state.route?.spec;
    if (!spec || spec.scope === 'public') return next();
    const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(ctx.get('authorization'));
    if (!match) {
      throw problem.unauthorized('An `Authorization: Bearer <token>` header is required.', REALM);
    }
    if (!verifier) {
      throw invalidToken(
        'API tokens are not configured on this server (ATLAS_JWT_SECRET or ATLAS_JWKS_URL).',
      );
    }
    const token = match[1]!;
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('The token is too long.');
    try {
      ctx.state.principal = await verifier.verify(token);
    } catch (err) {
      if (err instanceof TokenError) throw invalidToken(`The token is not valid: ${err.message}.`);
      if (err instanceof KeySourceError) {
        log.error({ err, requestId: ctx.state.requestId }, 'auth:keys-unavailable');
        throw new HttpProblem({
          status: 503,
          detail: 'The keys that verify tokens cannot be fetched; try again shortly.',
          headers: { 'retry-after': '5' },
        });
      }
      throw err;
    }
    return next();
  };
}

function invalidToken(detail: string): HttpProblem {
  const description = detail.replace(/["\\]/g, "'");
  return problem.unauthorized(detail, `${REALM}, error="invalid_token", error_description="${description}"`);
}
