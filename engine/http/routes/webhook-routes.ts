/**
 * `GET /v1/webhook-routes`: what the calling tenant needs to set up each inbound webhook at its
 * provider: the URL to give it, and where its secret comes from. When Atlas chose the secret
 * (Telegram's secret_token, Standard Webhooks keys, derived from the platform's for this
 * tenant) the value is shown, for this tenant only; a secret the tenant stored or the
 * platform's own never is.
 */
import { compileWebhookRoutes } from '../../webhooks/routes.ts';
import { platformSecretFor, platformSecrets } from '../../webhooks/secrets.ts';
import { tenantOf } from '../context.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';

const itemSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'method', 'url', 'secretName', 'secret'],
  properties: {
    id: { type: 'string', description: 'The WebhookRoute id.' },
    method: { type: 'string', enum: ['POST', 'PUT'] },
    url: { type: 'string', description: 'The address to give the provider, naming this tenant.' },
    secretName: { type: 'string', description: 'The tenant secret that verifies the route.' },
    secret: {
      type: 'string',
      enum: ['own', 'derived', 'platform', 'missing'],
      description:
        "own: the tenant's stored secret; derived: this tenant's, derived from the platform's; " +
        "platform: the platform's (the route fixes the tenant or reads it from the signed body); " +
        'missing: deliveries are refused until the tenant stores one.',
    },
    providerSecret: {
      type: 'string',
      description: 'For `derived`: the value to give the provider (setWebhook secret_token, the whsec_ key).',
    },
  },
};

export function webhookRouteRoutes({ config, catalogue, secrets }: RouteDeps): AnyRoute[] {
  const routes = [
    ...compileWebhookRoutes(catalogue, { defaultToleranceMs: config.webhooks.toleranceMs }).values(),
  ];
  const platform = platformSecrets(config, routes);
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/webhook-routes',
      operationId: 'listWebhookRoutes',
      summary: "The inbound webhook routes, with this tenant's URL and secret set-up",
      tag: 'webhooks',
      scope: 'tenant',
      responses: {
        200: {
          description: 'Every route.',
          schema: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: itemSchema } },
          },
        },
      },
      async handler(ctx) {
        const tenantId = tenantOf(ctx);
        const own = new Set((await secrets?.list(tenantId))?.map((s) => s.name));
        ctx.body = {
          items: routes.map((route) => {
            const url = new URL(route.path, `${config.oauth.publicUrl}/`);
            if (route.tenantFrom?.source === 'query')
              url.searchParams.set(route.tenantFrom.path[0]!, tenantId);
            const base = {
              id: route.id,
              method: route.method,
              url: url.toString(),
              secretName: route.verify.secret,
            };
            if (own.has(route.verify.secret)) return { ...base, secret: 'own' };
            const fallback = platformSecretFor(platform, route, tenantId);
            if (fallback === undefined) return { ...base, secret: 'missing' };
            if (fallback.source === 'derived')
              return { ...base, secret: 'derived', providerSecret: fallback.value };
            return { ...base, secret: 'platform' };
          }),
        };
      },
    }),
  ] as AnyRoute[];
}
