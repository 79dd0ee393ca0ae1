/**
 * `ctx.http`: the connector's only door to the network (ARCHITECTURE: Integration hub).
 * Every call, `request` or the SDK-facing `fetch`, is timed out by the step's signal (and a
 * per-call timeout), waits for the connector's rate limits, is SSRF-guarded (always: only the
 * origins the operator configured skip the address check), has its response body capped, and
 * leaves one redacted audit entry per hop. `request` also maps non-accepted statuses into a
 * classified ConnectorError.
 *
 * Redirects are followed here, not by fetch: at most MAX_REDIRECTS hops, each one checked and
 * pinned like the first, credentials dropped when the origin changes.
 */
import { Agent, type Dispatcher } from 'undici';
import type { AuditSink } from '../audit/entry.ts';
import { makeRedactor, type Redactor } from '../audit/redact.ts';
import type {
  ConnectorDefinition,
  HttpAuth,
  HttpClient,
  HttpRequest,
  HttpResponse,
  Logger,
} from '../connector-sdk/index.ts';
import { ConnectorError } from '../connector-sdk/index.ts';
import { capResponse, DEFAULT_MAX_RESPONSE_BYTES, readCapped } from './body.ts';
import { mapFetchFailure, mapHttpError } from './errors.ts';
import { recordAudit } from './http-audit.ts';
import { safeJson, wrapResponse } from './http-response.ts';
import type { RateLimiter, ResolvedRateLimit } from './rate-limit.ts';
import { isStreamBody, redirectTarget } from './redirect.ts';
import { auditBody, buildBody, buildUrl } from './request.ts';
import { assertUrlAllowed, guardedLookup, isAllowedHost, parseAllowlist, type SsrfPolicy } from './ssrf.ts';

/** Hops followed after the first request; one more 3xx fails the call. */
const MAX_REDIRECTS = 5;
/** The guard applied when the caller gives none: nothing but public addresses. */
const PUBLIC_ONLY = parseAllowlist('');
/** Connections to trusted origins (connector base URLs the operator set). */
const trustedAgent = new Agent();
const guardedAgents = new WeakMap<SsrfPolicy, Agent>();

/** The Agent whose sockets connect only to addresses the policy let through (one per policy). */
function guardedAgent(policy: SsrfPolicy): Agent {
  let agent = guardedAgents.get(policy);
  if (!agent) {
    agent = new Agent({ connect: { lookup: guardedLookup(policy) as never } });
    guardedAgents.set(policy, agent);
  }
  return agent;
}

export interface HttpClientOptions {
  tenantId: string;
  connectorId: string;
  actionId: string;
  runId?: string;
  stepId?: string;
  jobId?: string;
  attempt?: number;
  /** The connector's base URL; relative request URLs are joined to it. */
  baseUrl?: string;
  /** The step's signal: its timeout or the run's cancellation aborts every call. */
  signal: AbortSignal;
  /** Per-call timeout when the request sets none (ms); the step signal still applies. */
  defaultTimeoutMs?: number;
  audit: AuditSink;
  rateLimiter?: RateLimiter;
  /** Limits that apply to this action, keys already rendered (see resolveRateLimits). */
  rateLimits?: readonly ResolvedRateLimit[];
  mapError?: ConnectorDefinition['mapError'];
  /** Exact secret values to scrub from audit entries and error messages. */
  redactor?: Redactor;
  /** The SSRF guard every target must pass (default: public addresses only). */
  ssrf?: SsrfPolicy;
  /**
   * Origins the operator configured besides the base URL's (URL settings from the environment,
   * agents' `model.baseUrl`): reached, like the base URL's, without the address check.
   */
  trustedOrigins?: readonly string[];
  /** False: a 3xx is returned (or, for `request`, an error) instead of followed. */
  followRedirects?: boolean;
  /** Response body cap in bytes (default 10 MiB). */
  maxResponseBytes?: number;
  /** Underlying fetch (default: global fetch); it must honour the `dispatcher` the guard sets. */
  fetchImpl?: typeof fetch;
  log?: Logger;
  /** The headers of a request's `auth` (engine/hub/auth.ts); without it, `auth` is refused. */
  auth?: (auth: HttpAuth, url: URL) => Promise<Record<string, string>>;
}

export interface CallMeta {
  method: string;
  url: URL;
  headers: Headers;
  timeoutMs?: number;
  auditBodies?: boolean;
  requestBody?: unknown;
  extraSignal?: AbortSignal | null;
  /** Headers `auth` added: like `authorization`, a redirect to another origin drops them. */
  credentialHeaders?: readonly string[];
}

/** An in-flight call: the response plus the function that writes its audit entry. */
interface Sent {
  response: Response;
  finish(outcome: { errorCode?: string; responseBody?: unknown }): void;
}

export function makeHttpClient(opts: HttpClientOptions): HttpClient {
  const redactor = opts.redactor ?? makeRedactor();
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const send = makeSender(opts, redactor);

  async function addAuth(auth: HttpAuth, url: URL, headers: Headers): Promise<string[]> {
    if (!opts.auth)
      throw ConnectorError.fatal('auth_unavailable', `${opts.connectorId}: this context resolves no auth`);
    const added = await opts.auth(auth, url);
    for (const [name, value] of Object.entries(added)) {
      if (headers.has(name))
        throw ConnectorError.fatal(
          'invalid_input',
          `the ${name} header is set twice: by headers and by auth`,
        );
      headers.set(name, value);
    }
    return Object.keys(added);
  }

  async function request(req: HttpRequest): Promise<HttpResponse> {
    const url = buildUrl(opts.baseUrl, req.url, req.query);
    const { body, headers } = buildBody(req);
    const credentialHeaders = req.auth ? await addAuth(req.auth, url, headers) : undefined;
    const sent = await send({
      ...(credentialHeaders ? { credentialHeaders } : {}),
      method: req.method ?? (body === undefined ? 'GET' : 'POST'),
      url,
      headers,
      timeoutMs: req.timeoutMs,
      auditBodies: req.auditBodies,
      requestBody: req.json ?? (typeof body === 'string' ? body : undefined),
      init: { body },
    });
    const { response } = sent;
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(response, maxBytes);
    } catch (err) {
      const mapped = mapFetchFailure(err, opts.signal, opts.connectorId);
      sent.finish({ errorCode: mapped.code });
      throw mapped;
    }
    const wrapped = wrapResponse(response, bytes, opts.connectorId);
    const ok =
      (response.status >= 200 && response.status < 300) || (req.accept ?? []).includes(response.status);
    const responseBody = req.auditBodies ? auditBody(bytes) : undefined;
    if (ok) {
      sent.finish({ responseBody });
      return wrapped;
    }
    const error = mapHttpError({
      status: response.status,
      headers: response.headers,
      body: safeJson(bytes),
      connectorId: opts.connectorId,
      mapError: opts.mapError,
      redactString: redactor.redactString,
    });
    sent.finish({ errorCode: error.code, responseBody });
    throw error;
  }

  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [key, value] of new Headers(init?.headers)) headers.set(key, value);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const body = init?.body ?? (input instanceof Request ? input.body : undefined);
    const sent = await send({
      method,
      url,
      headers,
      extraSignal: init?.signal ?? (input instanceof Request ? input.signal : undefined),
      init: { body, ...(isStreamBody(body) ? { duplex: 'half' } : {}) },
    });
    sent.finish({});
    return capResponse(sent.response, maxBytes, opts.connectorId);
  };

  return { request, fetch: fetchFn as typeof fetch };
}

type SendInput = CallMeta & { init: RequestInit & { duplex?: 'half' } };

function makeSender(opts: HttpClientOptions, redactor: Redactor) {
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const policy = opts.ssrf ?? PUBLIC_ONLY;
  const trustedUrls = [...(opts.baseUrl === undefined ? [] : [opts.baseUrl]), ...(opts.trustedOrigins ?? [])];
  const trusted = new Set(trustedUrls.flatMap((u) => originOf(u) ?? []));
  const follow = opts.followRedirects ?? true;

  /** Checks one hop's URL and picks the connection pool its socket comes from. */
  function dispatcherFor(url: URL): Dispatcher {
    if (trusted.has(url.origin) || isAllowedHost(policy, url)) return trustedAgent;
    assertUrlAllowed(url, policy);
    return guardedAgent(policy);
  }

  return async function send(meta: SendInput): Promise<Sent> {
    const started = performance.now();
    let waited = 0;
    const signals = [opts.signal];
    const timeoutMs = meta.timeoutMs ?? opts.defaultTimeoutMs;
    if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
    if (meta.extraSignal) signals.push(meta.extraSignal);
    const signal = AbortSignal.any(signals);
    let hop: SendInput = meta;
    const audit = (status: number | undefined, errorCode?: string, responseBody?: unknown) =>
      recordAudit(opts, redactor, hop, { status, errorCode, responseBody, started, waited });
    let response: Response;
    try {
      const before = performance.now();
      for (const { key, limit } of opts.rateLimits ?? []) await opts.rateLimiter?.acquire(key, limit, signal);
      waited = performance.now() - before;
      // fetch computes the length itself; an SDK's own (Stripe sets one) can disagree with it.
      hop.headers.delete('content-length');
      for (let hops = 0; ; hops++) {
        const dispatcher = dispatcherFor(hop.url);
        response = await fetchImpl(hop.url, {
          ...hop.init,
          method: hop.method,
          headers: hop.headers,
          signal,
          redirect: 'manual',
          dispatcher,
        } as unknown as RequestInit);
        const next = follow ? redirectTarget(hop, response) : undefined;
        if (!next) break;
        if (hops >= MAX_REDIRECTS) {
          await response.body?.cancel().catch(() => undefined);
          throw ConnectorError.fatal('too_many_redirects', `more than ${MAX_REDIRECTS} redirects`, {
            status: response.status,
          });
        }
        await response.body?.cancel().catch(() => undefined);
        audit(response.status);
        hop = next;
      }
    } catch (err) {
      const mapped = mapFetchFailure(err, opts.signal, opts.connectorId);
      audit(undefined, mapped.code);
      throw mapped;
    }
    return {
      response,
      finish: ({ errorCode, responseBody }) => audit(response.status, errorCode, responseBody),
    };
  };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
