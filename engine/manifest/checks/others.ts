// Cross-checks of the kinds other than Workflow.
import type { ConnectorRegistry } from '../../connector-sdk/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Agent, OAuthProvider, WebhookRoute } from '../types.gen.ts';

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

export function checkWebhookRoute(doc: ManifestDoc): void {
  const route = doc.value as unknown as WebhookRoute;
  if (route.verify.method === 'hmac-sha256' && route.verify.header === undefined) {
    doc.report(
      ['verify'],
      'webhook',
      'verify method hmac-sha256 needs the header that carries the signature',
    );
  }
}
