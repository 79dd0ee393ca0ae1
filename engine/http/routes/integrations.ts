/**
 * A tenant's connected accounts: `GET /v1/integrations` lists them (never a token), `DELETE
 * /v1/integrations/{id}` revokes the grant at the provider where it can and deletes the
 * tokens in any case.
 */
import { integrationsOf, removeIntegration } from '../../oauth/index.ts';
import { problem } from '../../problem.ts';
import { tenantOf } from '../context.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { uuidParams } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';
import { integrationSchema, lazyOAuthDeps } from './oauth-browser.ts';

export function integrationRoutes(deps: RouteDeps): AnyRoute[] {
  const oauth = lazyOAuthDeps(deps);
  const list = defineRoute({
    method: 'GET',
    path: '/v1/integrations',
    operationId: 'listIntegrations',
    summary: "List the tenant's connected accounts",
    tag: 'integrations',
    scope: 'tenant',
    responses: {
      200: {
        description: 'Every integration, by provider.',
        schema: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: integrationSchema } },
        },
      },
    },
    async handler(ctx) {
      ctx.body = { items: await integrationsOf(await oauth(), tenantOf(ctx)) };
    },
  });

  const remove = defineRoute<{ id: string }>({
    method: 'DELETE',
    path: '/v1/integrations/{id}',
    operationId: 'deleteIntegration',
    summary: 'Disconnect an account: revoke at the provider where it can, then delete the tokens',
    tag: 'integrations',
    scope: 'tenant',
    params: uuidParams,
    errors: [404],
    audit: { action: 'integrations.delete', entityType: 'integration' },
    responses: {
      200: {
        description: 'Deleted; `revocation` says what the provider did.',
        schema: {
          type: 'object',
          required: ['id', 'provider', 'revocation'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            provider: { type: 'string' },
            revocation: { type: 'string', enum: ['revoked', 'unsupported', 'failed', 'nothing_to_revoke'] },
          },
        },
      },
    },
    async handler(ctx, { params }) {
      const removed = await removeIntegration(await oauth(), tenantOf(ctx), params.id);
      if (!removed) throw problem.notFound(`There is no integration "${params.id}".`);
      if (ctx.state.audit)
        ctx.state.audit.summary = { provider: removed.provider, revocation: removed.revocation };
      ctx.body = { id: params.id, ...removed };
    },
  });
  return [list, remove];
}
