/**
 * A route of the API as data: method, path, who may call it, the JSON Schemas of its
 * parameters, query and body, its responses, and its handler. The same data validates
 * requests (Ajv) and becomes the OpenAPI document, so the two cannot drift apart.
 */
import type { ApiContext } from './context.ts';

export type JsonSchema = Record<string, unknown>;

/**
 * `public`: anyone (health, metrics, the OpenAPI document). `tenant`: a token that grants the
 * request's tenant. `platform`: a token with the `admin` role.
 */
export type Scope = 'public' | 'tenant' | 'platform';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  description: string;
  schema?: JsonSchema;
  /** `application/json` unless said otherwise. */
  contentType?: string;
  /** Response headers worth documenting (`Location`). */
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

export interface RouteSpec<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  method: Method;
  /** OpenAPI-style path: `/v1/runs/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  scope: Scope;
  /** An object schema of the path parameters; a value that fails it answers 404. */
  params?: JsonSchema;
  /** An object schema of the query; failing it answers 400. */
  query?: JsonSchema;
  /** The JSON body's schema; failing it answers 422. Routes without one read no body. */
  body?: JsonSchema;
  /**
   * The OpenAPI request body of a route that reads a non-JSON body itself (file uploads);
   * such a route declares no `body`, so the JSON reader and ATLAS_BODY_LIMIT leave it alone.
   */
  requestBody?: Record<string, unknown>;
  /** Whether a request without a body is refused (400); true when `body` is set. */
  bodyRequired?: boolean;
  /** Added to the 422 when the body has a field its schema does not know (a missing wrapper). */
  bodyHint?: string;
  /** Success responses; the error responses every route shares are added to the document. */
  responses: Record<number, ResponseSpec>;
  /** Error statuses particular to this route (404, 409, 422...), for the document. */
  errors?: number[];
  /**
   * Mutations name what they record in the audit log. `redactBody` lists body fields never
   * written there, whatever the outcome (a secret's value, even in a request that fails).
   */
  audit?: { action: string; entityType: string; redactBody?: readonly string[] };
  handler(ctx: ApiContext, input: RouteInput<P, Q, B>): Promise<void> | void;
}

/** Keeps the handler's parameter types while letting routes of any shape share one list. */
export function defineRoute<P = Record<string, string>, Q = Record<string, unknown>, B = unknown>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> {
  return spec;
}

// Method syntax above makes the handler's parameter bivariant, so every route fits here.
export type AnyRoute = RouteSpec<never, never, never>;
