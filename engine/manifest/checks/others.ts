// Cross-checks of the kinds other than Workflow.
import { type ConnectorRegistry, parseDuration } from '../../connector-sdk/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Agent, OAuthProvider, WebhookRoute, WebhookVerify } from '../types.gen.ts';

export function checkAgent(doc: ManifestDoc, registry: ConnectorRegistry): void {
  const agent = doc.value as unknown as Agent;
  (agent.tools ?? []).forEach((uses, i) => {
    if (registry.action(uses)) return;
    const suggestion = registry.suggest(uses);
    const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
    doc.report(['tools', i], 'unknown-action', `tool "${uses}" is not a registered connector action${hint}`);
  });
}

export function checkOAuthProvider(doc: ManifestDoc): void {
  const provider = doc.value as unknown as OAuthProvider;
  const grant = provider.grant ?? 'authorization_code';
  if (grant === 'authorization_code' && provider.authorizationUrl === undefined) {
    doc.report([], 'oauth', 'the authorization_code grant needs an authorizationUrl');
  }
  if (provider.refresh === 'exchange' && Object.keys(provider.exchangeParams ?? {}).length === 0) {
    doc.report(
      ['refresh'],
      'oauth',
      'refresh: exchange needs exchangeParams (e.g. grant_type: fb_exchange_token)',
    );
  }
}

/**
 * How long a delivery may come again: the provider's retries, and for schemes that sign no
 * timestamp, a captured request's replay. A route's `dedupWindow` is at least this, or a
 * delivery after it would start runs a second time. Timestamped schemes without a known
 * retry schedule (Standard Webhooks) are bounded by their tolerance instead.
 */
export const RETRY_HORIZON: Partial<
  Record<WebhookVerify['method'], { window: string; of: string; why: string }>
> = {
  'stripe-signature': { window: '3d', of: 'Stripe', why: 'Stripe retries an event for up to three days' },
  'telegram-secret-token': {
    window: '1d',
    of: 'Telegram',
    why: 'Telegram keeps an unconfirmed update for 24 hours, and its token signs no timestamp',
  },
  'teams-hmac': { window: '1d', of: 'Teams', why: 'a Teams request signs no timestamp' },
  'hmac-sha256': {
    window: '3d',
    of: 'plain HMAC senders',
    why: 'a plain HMAC signs no timestamp (GitHub redelivers for three days)',
  },
};

/** Why a route's dedup window is too short, or undefined. */
export function dedupWindowProblem(route: WebhookRoute): string | undefined {
  const horizon = RETRY_HORIZON[route.verify.method];
  const window = route.dedupWindow ?? '3d';
  if (horizon === undefined || parseDuration(window) >= parseDuration(horizon.window)) return undefined;
  return `dedupWindow ${window} is shorter than the retry horizon of ${horizon.of} (${horizon.window}); write at least ${horizon.window} (${horizon.why})`;
}

export function checkWebhookRoute(doc: ManifestDoc): void {
  const route = doc.value as unknown as WebhookRoute;
  const short = dedupWindowProblem(route);
  if (short) doc.report(['dedupWindow'], 'webhook', short);
  if (route.verify.method === 'hmac-sha256' && route.verify.header === undefined) {
    doc.report(
      ['verify'],
      'webhook',
      'verify method hmac-sha256 needs the header that carries the signature',
    );
  }
}
