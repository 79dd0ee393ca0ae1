/**
 * Matching and dispatch for the route table, on @koa/router. Matching runs first (the plugins
 * after it read the route's scope and audit action); validation and the handler run last.
 */
import Router, { type RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import { HttpProblem, problem } from '../problem.ts';
import type { ApiContext } from './context.ts';
import type { AnyRoute } from './route.ts';
import { compileBody, compileText, type FieldError, type Validator } from './validate.ts';

export interface CompiledRoute {
  spec: AnyRoute;
  validateParams: Validator | undefined;
  validateQuery: Validator | undefined;
  validateBody: Validator | undefined;
}

/** The query parameter the tenant plugin reads; every tenant route accepts it. */
export const TENANT_QUERY = 'tenantId';

function compileRoutes(routes: readonly AnyRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes.map((spec) => {
    const key = `${spec.method} ${spec.path}`;
    if (seen.has(key)) throw new Error(`route ${key} is defined twice`);
    seen.add(key);
    return {
      spec,
      validateParams: spec.params ? compileText(spec.params) : undefined,
      validateQuery: spec.query ? compileText(spec.query) : undefined,
      validateBody: spec.body ? compileBody(spec.body) : undefined,
    };
  });
}

/**
 * The route table as one middleware: @koa/router matches the path and method (first route
 * in table order wins; GET also answers HEAD), then the route's pipeline runs: `plugins`
 * (body, auth, tenant, audit: they read the matched route on `ctx.state.route`), then the
 * schemas and the handler. An unknown path is a 404; a known path's other methods a 405
 * with `Allow`.
 */
export function routeTable(specs: readonly AnyRoute[], plugins: readonly Middleware[]): Middleware {
  // One router per path prefix (`/v1/runs`): @koa/router tests a request against every
  // route it holds, so a request meets only the few routes of its own prefix.
  const routers = new Map<string, Router>();
  for (const route of compileRoutes(specs)) {
    const prefix = prefixOf(route.spec.path);
    if (prefix.includes('{'))
      throw new Error(`route ${route.spec.path}: its first two segments must be literal`);
    let router = routers.get(prefix);
    if (!router) {
      router = new Router({ strict: true, sensitive: true });
      routers.set(prefix, router);
    }
    router.register(
      toRouterPath(route.spec.path),
      [route.spec.method],
      [enter(route), ...plugins, dispatch(route)],
    );
  }
  const tables = new Map(
    [...routers].map(([prefix, router]) => [prefix, { router, matched: router.routes() }]),
  );
  return (ctx) => {
    const table = tables.get(prefixOf(ctx.path));
    if (!table) return unmatched(undefined, ctx as ApiContext);
    return table.matched(ctx as RouterContext, async () => unmatched(table.router, ctx as ApiContext));
  };
}

/** A path's first two segments: `/v1/runs/{id}/retry` → `/v1/runs`, `/healthz` → `/healthz`. */
function prefixOf(path: string): string {
  const second = path.indexOf('/', 1);
  const third = second < 0 ? -1 : path.indexOf('/', second + 1);
  return third < 0 ? path : path.slice(0, third);
}

/** `/v1/runs/{id}` → `/v1/runs/:id`. */
function toRouterPath(path: string): string {
  return path.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, ':$1');
}

/** Records the matched route and its path parameters, decoded (a malformed escape is a 404). */
function enter(route: CompiledRoute): Middleware {
  const names = [...route.spec.path.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((m) => m[1]!);
  return (ctx, next) => {
    const state = (ctx as ApiContext).state;
    const captures: string[] = ctx.captures ?? [];
    state.route = route;
    state.params = {};
    names.forEach((name, i) => {
      try {
        state.params[name] = decodeURIComponent(captures[i] ?? '');
      } catch {
        throw problem.notFound('The resource does not exist.');
      }
    });
    return next();
  };
}

/** 404 for an unknown path, 405 (with `Allow`, in table order) for a known path's other methods. */
function unmatched(router: Router | undefined, ctx: ApiContext): never {
  ctx.state.params = {};
  const allowed = (router?.match(ctx.path, ctx.method).path ?? []).flatMap((layer) =>
    layer.methods.filter((method) => method !== 'HEAD'),
  );
  if (allowed.length === 0) throw problem.notFound(`No route for ${ctx.method} ${ctx.path}.`);
  throw new HttpProblem({
    status: 405,
    detail: `${ctx.path} accepts ${allowed.join(', ')}.`,
    headers: { allow: allowed.join(', ') },
  });
}

/** Validates path parameters, query and body against the route's schemas, then runs it. */
function dispatch(route: CompiledRoute): Middleware {
  return async (koaCtx) => {
    const ctx = koaCtx as ApiContext;
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
      failWith(route.validateBody(body), (errors) => invalid(422, 'body', errors, route.spec.bodyHint));
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

function invalid(
  status: 400 | 422,
  where: 'query' | 'body',
  errors: FieldError[],
  hint?: string,
): HttpProblem {
  const first = errors[0]!;
  const unknown = errors.some(
    (e) => e.message === 'is not a known field' && e.pointer.lastIndexOf('/') === 0,
  );
  const detail = `The ${where} is invalid: ${first.pointer || '(root)'} ${first.message}.${hint && unknown ? ` ${hint}` : ''}`;
  return status === 400 ? problem.badRequest(detail, { errors }) : problem.unprocessable(detail, { errors });
}
