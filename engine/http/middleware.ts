import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';
import { HttpProblem, statusTitle } from '../problem.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a well-formed `x-request-id` or makes one, and echoes it. */
export function requestId() {
  return async (ctx: Context, next: Next) => {
    const given = ctx.get('x-request-id');
    const id = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set('x-request-id', id);
    await next();
  };
}

/**
 * The one place errors become responses: `application/problem+json`. Internal messages are
 * logged with the request id, never sent.
 */
export function errorHandler(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem({ status: 404, detail: `No route for ${ctx.method} ${ctx.path}.` });
      }
    } catch (err) {
      const p = toProblem(err);
      if (p.status >= 500)
        log.error({ err, requestId: ctx.state.requestId, path: ctx.path }, 'request:failed');
      ctx.status = p.status;
      for (const [name, value] of Object.entries(p.headers)) ctx.set(name, value);
      ctx.type = 'application/problem+json';
      ctx.body = {
        type: p.type,
        title: p.title,
        status: p.status,
        ...(p.detail === undefined ? {} : { detail: p.detail }),
        instance: ctx.path,
        requestId: ctx.state.requestId,
        ...p.extra,
      };
    } finally {
      log.debug(
        {
          requestId: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: elapsed(started),
        },
        'request:answered',
      );
    }
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** Any thrown value as a problem; anything not known to be safe becomes an opaque 500. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
  // Errors raised by Koa and body parsers carry a 4xx status and a safe message.
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpProblem({
      status: e.status,
      title: statusTitle(e.status),
      detail: e.expose ? e.message : undefined,
    });
  }
  return new HttpProblem({ status: 500, detail: 'An unexpected error occurred.' });
}
