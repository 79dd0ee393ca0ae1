// The HTTP surface a connector action sees: its requests, their named credentials, the answers
// and the client the hub hands it (`ctx.http`).

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Absolute URL, or a path joined to the connector's base URL. */
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
  /** A raw body (form data, bytes); mutually exclusive with `json`. */
  body?: string | Uint8Array | URLSearchParams | FormData | Blob;
  /** Overrides the step timeout for this one call (ms). */
  timeoutMs?: number;
  /** Record request/response bodies (redacted) in the audit entry. Off by default. */
  auditBodies?: boolean;
  /** Statuses that are returned instead of thrown (e.g. `[404]` for a lookup). */
  accept?: number[];
  /**
   * Credentials the hub adds to this call, by name: the action never sees their values, and
   * every audit entry and error message has them redacted.
   */
  auth?: HttpAuth;
}

/**
 * Credentials of one call, named, never inlined. `integration`: the tenant's OAuth token for
 * that provider (refreshed ahead of expiry, renewed once on a 401), sent only to the hosts its
 * manifest's `apiHosts` lists, over https. The others read tenant secrets: `bearer` (an
 * `Authorization: Bearer` token), `basic` (the password from a secret), `header` (the secret as
 * the value of the named header).
 */
export type HttpAuth =
  | { integration: string }
  | { bearer: string }
  | { basic: { username: string; password: string } }
  | { header: { name: string; secret: string } };

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or `undefined` for an empty body. */
  json<T = unknown>(): T;
  text(): string;
  bytes(): Uint8Array;
}

/**
 * The connector's door to the network. Every call is timed out by the step's signal,
 * rate limited, audited (tenant, run, step, connector, method, host, path, status,
 * duration; secrets redacted) and, for `request`, mapped into a {@link ConnectorError}.
 */
export interface HttpClient {
  /** JSON-friendly request; non-2xx answers throw a classified ConnectorError. */
  request(req: HttpRequest): Promise<HttpResponse>;
  /**
   * A `fetch` with the same timeout, rate limit and audit but no error mapping, for
   * official SDKs (`stripe`, `openai`, `@googleapis/*`) configured by the engine.
   */
  fetch: typeof fetch;
}
