/**
 * The webhook route table, compiled once from the catalogue: each WebhookRoute with its
 * parsed locators, tolerance, dedup window, answer, and the workflows whose webhook trigger
 * names it (their event patterns compiled), so a request does no catalogue scan.
 */
import { parseDuration } from '../connector-sdk/index.ts';
import type { Catalogue, CatalogueEntry } from '../manifest/catalogue.ts';
import { dedupWindowProblem } from '../manifest/checks/others.ts';
import type { JsonLogicRule, WebhookRoute, WebhookVerify, Workflow } from '../manifest/types.gen.ts';
import type { Signaler } from './signals.ts';

export interface Locator {
  source: 'body' | 'headers' | 'query';
  /** The dotted path under `body`, or the one header / query parameter name. */
  path: string[];
  text: string;
}

export interface Subscriber {
  entry: CatalogueEntry<Workflow>;
  /** Whether the trigger's `events` admit this event type. */
  accepts(eventType: string): boolean;
  rule: JsonLogicRule | undefined;
}

export interface CompiledWebhookRoute {
  id: string;
  path: string;
  method: 'POST' | 'PUT';
  verify: WebhookVerify;
  toleranceSec: number;
  dedupWindowMs: number;
  eventId: Locator;
  eventType: Locator | undefined;
  tenantFrom: Locator | undefined;
  tenantFallback: string | undefined;
  response: { status: number; body: unknown };
  subscribers: Subscriber[];
  /** Workflows whose `trigger.signal` maps this route's deliveries to signals. */
  signalers: Signaler[];
}

/** The event type of routes that declare none (Telegram updates carry no type field). */
export const DEFAULT_EVENT_TYPE = 'message';
const DEFAULT_DEDUP_WINDOW = '3d';

function parseLocator(text: string): Locator {
  const [source, ...rest] = text.split('.');
  if (source === 'body') return { source, path: rest, text };
  if (source === 'headers' || source === 'query') return { source, path: [rest.join('.')], text };
  throw new Error(`"${text}" is not a locator (body.<path>, headers.<name> or query.<name>)`);
}

/** `invoice.*` admits `invoice.paid`; `*` admits everything; anything else is exact. */
export function eventMatcher(patterns: readonly string[] | undefined): (eventType: string) => boolean {
  if (patterns === undefined || patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((prefix) => type.startsWith(prefix));
}

export function compileWebhookRoutes(
  catalogue: Catalogue,
  opts: { defaultToleranceMs: number },
): Map<string, CompiledWebhookRoute> {
  const routes = new Map<string, CompiledWebhookRoute>();
  for (const { manifest } of catalogue.webhookRoutes()) {
    if (routes.has(manifest.path)) {
      throw new Error(`WebhookRoute ${manifest.id}: the path ${manifest.path} is already taken`);
    }
    const route = compileRoute(manifest, subscribersOf(catalogue, manifest.id), opts);
    routes.set(manifest.path, { ...route, signalers: signalersOf(catalogue, manifest.id) });
  }
  return routes;
}

function compileRoute(
  manifest: WebhookRoute,
  subscribers: Subscriber[],
  opts: { defaultToleranceMs: number },
): Omit<CompiledWebhookRoute, 'signalers'> {
  if (manifest.verify.method === 'hmac-sha256' && !manifest.verify.header) {
    throw new Error(`WebhookRoute ${manifest.id}: verify.header is required for hmac-sha256`);
  }
  const short = dedupWindowProblem(manifest);
  if (short) throw new Error(`WebhookRoute ${manifest.id}: ${short}`);
  const toleranceMs = manifest.verify.tolerance
    ? parseDuration(manifest.verify.tolerance)
    : opts.defaultToleranceMs;
  return {
    id: manifest.id,
    path: manifest.path,
    method: manifest.method ?? 'POST',
    verify: manifest.verify,
    toleranceSec: Math.floor(toleranceMs / 1000),
    dedupWindowMs: parseDuration(manifest.dedupWindow ?? DEFAULT_DEDUP_WINDOW),
    eventId: parseLocator(manifest.event.id),
    eventType: manifest.event.type === undefined ? undefined : parseLocator(manifest.event.type),
    tenantFrom: manifest.tenant.from === undefined ? undefined : parseLocator(manifest.tenant.from),
    tenantFallback: manifest.tenant.fallback,
    response: {
      status: manifest.response?.status ?? 200,
      body: manifest.response?.body ?? { received: true },
    },
    subscribers,
  };
}

function subscribersOf(catalogue: Catalogue, routeId: string): Subscriber[] {
  const out: Subscriber[] = [];
  for (const entry of catalogue.workflows()) {
    const trigger = entry.manifest.trigger;
    if (trigger.type !== 'webhook' || trigger.route !== routeId) continue;
    out.push({ entry, accepts: eventMatcher(trigger.events), rule: trigger.if });
  }
  return out;
}

function signalersOf(catalogue: Catalogue, routeId: string): Signaler[] {
  const out: Signaler[] = [];
  for (const entry of catalogue.workflows()) {
    const mapping = entry.manifest.trigger.signal;
    if (mapping?.route !== routeId) continue;
    out.push({ entry, accepts: eventMatcher(mapping.events), rule: mapping.if, mapping });
  }
  return out;
}
