// Cross-checks of the kinds other than Workflow.
import { type ConnectorRegistry, didYouMean, parseDuration } from '../../connector-sdk/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Path } from '../source.ts';
import type { Agent, OAuthProvider, WebhookRoute, WebhookVerify } from '../types.gen.ts';

export function checkAgent(doc: ManifestDoc, registry: ConnectorRegistry): void {
  const agent = doc.value as unknown as Agent;
  const seen = new Set<string>();
  (agent.tools ?? []).forEach((tool, i) => {
    const uses = typeof tool === 'string' ? tool : tool.use;
    const at: Path = typeof tool === 'string' ? ['tools', i] : ['tools', i, 'use'];
    if (seen.has(uses)) doc.report(at, 'agent-tool', `tool "${uses}" is listed twice; keep one entry`);
    seen.add(uses);
    const entry = registry.action(uses);
    if (!entry) {
      const suggestion = registry.suggest(uses);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
      doc.report(at, 'unknown-action', `tool "${uses}" is not a registered connector action${hint}`);
      return;
    }
    if (typeof tool === 'string') return;
    for (const [field, rule] of Object.entries(tool.constrain ?? {})) {
      const values = 'allow' in rule ? (rule.allow ?? []) : [rule.const];
      values.forEach((value, j) => {
        if (typeof value === 'string' && value.includes('{{') && !SECRET_REF.test(value))
          doc.report(
            ['tools', i, 'constrain', field, ...('allow' in rule ? ['allow', j] : ['const'])],
            'agent-tool',
            `${value}: a constraint reads only a whole "{{ secrets.NAME }}"`,
          );
      });
      const problem = fieldProblem(entry.action.input as JsonSchema, field.split('.'));
      if (problem)
        doc.report(['tools', i, 'constrain', field], 'agent-tool', `${uses} has ${problem}`, { key: true });
    }
  });
}

const SECRET_REF = /^\{\{\s*secrets\.[A-Za-z][A-Za-z0-9_]{0,127}\s*\}\}$/;

type JsonSchema = { properties?: Record<string, JsonSchema> };

/** Why a dotted field is not one of an input schema's fields, or undefined when it is. */
function fieldProblem(schema: JsonSchema, path: string[]): string | undefined {
  let current: JsonSchema | undefined = schema;
  for (const key of path) {
    const fields: Record<string, JsonSchema> = current?.properties ?? {};
    if (!Object.hasOwn(fields, key))
      return `no input field "${path.join('.')}"${didYouMean(key, Object.keys(fields))}`;
    current = fields[key];
  }
  return undefined;
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
const RETRY_HORIZON: Partial<Record<WebhookVerify['method'], { window: string; of: string; why: string }>> = {
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
