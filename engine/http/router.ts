/**
 * Matching and dispatch for the route table. Matching runs early (the plugins after it read
 * the route's scope and audit action); validation and the handler run last.
 */
import type { Next } from 'koa';
import { HttpProblem, problem } from '../problem.ts';
import type { ApiContext } from './context.ts';
import type { AnyRoute, Method } from './route.ts';
import { compileBody, compileText, type FieldError, type Validator } from './validate.ts';

export interface CompiledRoute {
  spec: AnyRoute;
  pattern: RegExp;
  validateParams: Validator | undefined;
  validateQuery: Validator | undefined;
  validateBody: Validator | undefined;
}

/** The query parameter the tenant plugin reads; every tenant route accepts it. */
export const TENANT_QUERY = 'tenantId';

export function compileRoutes(routes: readonly AnyRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes.map((spec) => {
    const key = `${spec.method} ${spec.path}`;
    if (seen.has(key)) throw new Error(`route ${key} is defined twice`);
    seen.add(key);
    return {
      spec,
      pattern: toPattern(spec.path),
      validateParams: spec.params ? compileText(spec.params) : undefined,
      validateQuery: spec.query ? compileText(spec.query) : undefined,
      validateBody: spec.body ? compileBody(spec.body) : undefined,
    };
  });
}

/** `/v1/runs/{id}` → `^/v1/runs/(?<id>[^/]+)$`. */
function toPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => {
      const param = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(part);
      return param ? `(?<${param[1]}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Finds the route; 404 for an unknown path, 405 (with `Allow`) for a known path's other methods. */
export function matchRoute(routes: CompiledRoute[]) {
  return async (ctx: ApiContext, next: Next) => {
    const method = (ctx.method === 'HEAD' ? 'GET' : ctx.method) as Method;
    ctx.state.params = {};
    const allowed: string[] = [];
    for (const route of routes) {
      const match = route.pattern.exec(ctx.path);
      if (!match) continue;
      if (route.spec.method !== method) {
        allowed.push(route.spec.method);
        continue;
      }
      ctx.state.route = route;
      ctx.state.params = decodeParams(match.groups ?? {});
      return next();
    }
    if (allowed.length === 0) throw problem.notFound(`No route for ${ctx.method} ${ctx.path}.`);
    throw new HttpProblem({
      status: 405,
      detail: `${ctx.path} accepts ${allowed.join(', ')}.`,
      headers: { allow: allowed.join(', ') },
    });
  };
}

function decodeParams(groups: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(groups)) {
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      throw problem.notFound('The resource does not exist.');
    }
  }
  return out;
}

/** Validates path parameters, query and body against the route's schemas, then runs it. */
export function dispatch() {
  return async (ctx: ApiContext) => {
    const route = ctx.state.route;
    if (!route) throw new Error('dispatch() runs after matchRoute()');
    const params: Record<string, unknown> = { ...ctx.state.params };
    if (route.validateParams && route.validateParams(params).length > 0) {
      throw problem.notFound('The resource does not exist.');
    }
    const query = queryObject(ctx);
    if (route.validateQuery) failWith(route.validateQuery(query), (errors) => invalid(400, 'query', errors));
    else if (Object.keys(query).length > 0) {
      throw problem.badRequest(
        `This route takes no query parameters (got ${Object.keys(query).join(', ')}).`,
      );
    }
    const body = ctx.state.body;
    if (route.validateBody && body !== undefined) {
      failWith(route.validateBody(body), (errors) => invalid(422, 'body', errors));
    }
    await route.spec.handler(ctx, { params, query, body } as never);
  };
}

/** The query as one value per name: a repeated parameter is ambiguous, so it is refused. */
function queryObject(ctx: ApiContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(ctx.query)) {
    if (name === TENANT_QUERY) continue;
    if (Array.isArray(value))
      throw problem.badRequest(`The query parameter "${name}" is given more than once.`);
    out[name] = value;
  }
  return out;
}

function failWith(errors: FieldError[], toProblem: (errors: FieldError[]) => HttpProblem): void {
  if (errors.length > 0) throw toProblem(errors);
}

function invalid(status: 400 | 422, where: 'query' | 'body', errors: FieldError[]): HttpProblem {
  const first = errors[0]!;
  const detail = `The ${where} is invalid: ${first.pointer || '(root)'} ${first.message}.`;
  return status === 400 ? problem.badRequest(detail, { errors }) : problem.unprocessable(detail, { errors });
}
