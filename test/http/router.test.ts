/**
 * The route table on @koa/router: matching, dispatch, path parameters, and the 404/405
 * problems, on a real HTTP server on 127.0.0.1 with a small table of routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../engine/http/context.ts';
import { errorHandler, requestId } from '../../engine/http/middleware.ts';
import { type AnyRoute, defineRoute } from '../../engine/http/route.ts';
import { routeTable } from '../../engine/http/router.ts';
import { decodeCursor, encodeCursor } from '../../engine/json/cursor.ts';
import { silentLogger } from '../../engine/log.ts';

const seen: string[] = [];

function echo(operationId: string, method: 'GET' | 'POST' | 'DELETE', path: string): AnyRoute {
  return defineRoute<Record<string, string>>({
    method,
    path,
    operationId,
    summary: operationId,
    tag: 'test',
    scope: 'public',
    params: path.includes('{')
      ? { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9 é/-]+$' } } }
      : undefined,
    query: { type: 'object', properties: { q: { type: 'string' } }, additionalProperties: false },
    responses: { 200: { description: 'ok' } },
    handler(ctx: ApiContext, { params }) {
      ctx.body = {
        operationId,
        params,
        route: ctx.state.route?.spec.path,
        matched: (ctx as unknown as { _matchedRoute?: string })._matchedRoute,
        plugins: seen.splice(0),
      };
    },
  }) as AnyRoute;
}

const routes = [
  echo('listThings', 'GET', '/v1/things'),
  echo('createThing', 'POST', '/v1/things'),
  echo('getSpecial', 'GET', '/v1/things/special'),
  echo('getThing', 'GET', '/v1/things/{id}'),
  echo('deleteThing', 'DELETE', '/v1/things/{id}'),
  echo('openapi', 'GET', '/v1/openapi.json'),
  defineRoute<Record<string, never>, { cursor?: string }>({
    method: 'GET',
    path: '/v1/paged',
    operationId: 'paged',
    summary: 'paged',
    tag: 'test',
    scope: 'public',
    query: { type: 'object', properties: { cursor: { type: 'string' } }, additionalProperties: false },
    responses: { 200: { description: 'ok' } },
    handler(ctx, { query }) {
      ctx.body = { after: decodeCursor(query.cursor, 'number') ?? null };
    },
  }) as AnyRoute,
];

let server: Server;
let base: string;

beforeAll(async () => {
  const app = new Koa();
  app.silent = true;
  app.use(requestId());
  app.use(errorHandler(silentLogger));
  const plugin = (name: string) => async (ctx: ApiContext, next: () => Promise<unknown>) => {
    seen.push(`${name}:${ctx.state.route?.spec.operationId}`);
    await next();
  };
  app.use(routeTable(routes, [plugin('first'), plugin('second')]));
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (method: string, path: string) => fetch(base + path, { method });

describe('routeTable', () => {
  it('dispatches through @koa/router, the plugins first, with decoded path parameters', async () => {
    const res = await call('GET', '/v1/things/caf%C3%A9%20one');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      operationId: 'getThing',
      params: { id: 'café one' },
      route: '/v1/things/{id}',
      matched: '/v1/things/:id',
      plugins: ['first:getThing', 'second:getThing'],
    });
  });

  it('takes the first route that matches, in table order', async () => {
    expect(await (await call('GET', '/v1/things/special')).json()).toMatchObject({
      operationId: 'getSpecial',
    });
    expect(await (await call('GET', '/v1/openapi.json')).json()).toMatchObject({ operationId: 'openapi' });
  });

  it('answers HEAD on a GET route', async () => {
    const res = await call('HEAD', '/v1/things');
    expect(res.status).toBe(200);
  });

  it('answers 405 with the methods of the path in table order, and Allow', async () => {
    const res = await call('PUT', '/v1/things/x');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, DELETE');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Method Not Allowed',
      status: 405,
      detail: '/v1/things/x accepts GET, DELETE.',
      instance: '/v1/things/x',
    });
    const options = await call('OPTIONS', '/v1/things');
    expect(options.status).toBe(405);
    expect(options.headers.get('allow')).toBe('GET, POST');
  });

  it.each([
    ['an unknown path', '/v1/nothing'],
    ['a trailing slash', '/v1/things/'],
    ['another case', '/V1/Things'],
    ['an extra segment', '/v1/things/x/y'],
    ['a character the literal does not have', '/v1/openapiXjson'],
    ['a path with no prefix of the table', '/'],
    ['a doubled slash', '//v1/things'],
    ['a prefix only', '/v1'],
  ])('answers 404 to %s', async (_name, path) => {
    const res = await call('GET', path);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      title: 'Not Found',
      status: 404,
      detail: `No route for GET ${path}.`,
      instance: path,
    });
  });

  it('answers 404 to a malformed or invalid path parameter', async () => {
    for (const path of ['/v1/things/%E0%A4%A', '/v1/things/UPPER']) {
      const res = await call('GET', path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ detail: 'The resource does not exist.' });
    }
  });

  it('refuses an undeclared or repeated query parameter with 400', async () => {
    const unknown = await call('GET', '/v1/things?x=1');
    expect(unknown.status).toBe(400);
    const repeated = await call('GET', '/v1/things?q=1&q=2');
    expect(await repeated.json()).toMatchObject({
      status: 400,
      detail: 'The query parameter "q" is given more than once.',
    });
    seen.length = 0;
  });

  it('answers a forged cursor with a 400 problem', async () => {
    expect(await (await call('GET', `/v1/paged?cursor=${encodeCursor(7)}`)).json()).toEqual({ after: 7 });
    const res = await call('GET', `/v1/paged?cursor=${encodeCursor('x')}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The cursor is not one this API issued.',
      instance: '/v1/paged',
    });
  });

  it('refuses, when defined, a route whose first two segments are not literal', () => {
    expect(() => routeTable([echo('bad', 'GET', '/v1/{id}')], [])).toThrow(
      /first two segments must be literal/,
    );
  });
});
