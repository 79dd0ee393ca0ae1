/**
 * The OpenAPI 3.1 document, generated from the route table: the same schemas that validate
 * requests describe them, so the document cannot promise what the code does not check.
 */
import { version } from '../version.ts';
import { TENANT_HEADER } from './plugins/tenant.ts';
import type { AnyRoute, JsonSchema, ResponseSpec } from './route.ts';
import { TENANT_QUERY } from './router.ts';
import { problemSchema, TENANT_ID_PATTERN } from './schemas.ts';

const ERROR_TITLES: Record<number, string> = {
  400: 'The request is malformed (query, tenant, or JSON syntax).',
  401: 'No valid bearer token.',
  403: 'The token does not grant this tenant, or lacks the admin role.',
  404: 'The resource does not exist (or belongs to another tenant).',
  409: 'The request conflicts with the current state.',
  413: 'The body is larger than ATLAS_BODY_LIMIT (files: the file limit).',
  415: 'The body is not application/json in UTF-8.',
  422: 'The body does not match its schema.',
  429: 'Too many requests; see Retry-After.',
  416: 'The requested range is outside the file.',
  502: 'An upstream provider failed.',
  503: 'Not ready, or token keys cannot be fetched.',
};

export function openApiDocument(routes: readonly AnyRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Atlas API',
      version,
      description:
        'Drive the Atlas integration engine: workflows, runs, jobs, agents, tenants and the audit trail. ' +
        'Tenant routes name their tenant with the `x-tenant-id` header or the `tenantId` query parameter.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: problemSchema },
      responses: Object.fromEntries(
        Object.entries(ERROR_TITLES).map(([status, description]) => [
          `E${status}`,
          {
            description,
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        ]),
      ),
    },
  };
}

function operation(route: AnyRoute): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security: route.scope === 'public' ? [] : [{ bearer: [] }],
    parameters: parameters(route),
    responses: responses(route),
  };
  if (route.description) op.description = route.description;
  if (route.requestBody) op.requestBody = route.requestBody;
  if (route.body) {
    op.requestBody = {
      required: route.bodyRequired ?? true,
      content: { 'application/json': { schema: route.body } },
    };
  }
  return op;
}

function parameters(route: AnyRoute): unknown[] {
  const out: unknown[] = [];
  for (const [name, schema] of properties(route.params))
    out.push({ name, in: 'path', required: true, schema });
  const required = new Set((route.query?.required as string[] | undefined) ?? []);
  for (const [name, schema] of properties(route.query)) {
    out.push({ name, in: 'query', required: required.has(name), schema });
  }
  if (route.scope === 'tenant') {
    const schema = { type: 'string', pattern: TENANT_ID_PATTERN };
    const description = `The tenant acted for; give it here or as \`${TENANT_QUERY}\`.`;
    out.push({ name: TENANT_HEADER, in: 'header', required: false, schema, description });
    out.push({
      name: TENANT_QUERY,
      in: 'query',
      required: false,
      schema,
      description: `Or the ${TENANT_HEADER} header.`,
    });
  }
  return out;
}

function properties(schema: JsonSchema | undefined): Array<[string, unknown]> {
  return Object.entries((schema?.properties as Record<string, unknown> | undefined) ?? {});
}

function responses(route: AnyRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) out[status] = response(spec);
  const errors = new Set([
    ...(route.errors ?? []),
    ...(route.query || route.scope === 'tenant' ? [400] : []),
    ...(route.scope === 'public' ? [] : [401, 403]),
    ...(route.params ? [404] : []),
    ...(route.body ? [400, 413, 415, 422] : []),
  ]);
  for (const status of [...errors].sort((a, b) => a - b)) {
    out[String(status)] =
      status in ERROR_TITLES
        ? { $ref: `#/components/responses/E${status}` }
        : {
            description: `Error ${status}.`,
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          };
  }
  return out;
}

function response(spec: ResponseSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { description: spec.description };
  if (spec.schema) out.content = { [spec.contentType ?? 'application/json']: { schema: spec.schema } };
  if (spec.headers) {
    out.headers = Object.fromEntries(
      Object.entries(spec.headers).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    );
  }
  return out;
}
