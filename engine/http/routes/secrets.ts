/**
 * Tenant secrets: write-only. A value goes in through `PUT /v1/secrets/{name}` and is never
 * returned by any route; the list shows names, key ids and dates. Workflows read values as
 * `{{ secrets.NAME }}`, decrypted only when a step runs.
 */

import { problem } from '../../problem.ts';
import { SECRET_NAME } from '../../secrets/store.ts';
import { keyProblem } from '../../webhooks/keys.ts';
import { tenantOf } from '../context.ts';
import { defineDeleteRoute } from '../delete-route.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps, TenantSecrets } from './deps.ts';

const secretParams: JsonSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', pattern: SECRET_NAME.source } },
};

const secretInfoSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'keyId', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string', pattern: SECRET_NAME.source },
    keyId: { type: 'string', description: 'The encryption key the value is sealed with (rotation).' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

/** 64 KiB of text covers keys, tokens and PEM certificates; a secret is not a file store. */
const MAX_VALUE_LENGTH = 65_536;

export function secretRoutes({ db, catalogue }: RouteDeps, secrets: TenantSecrets): AnyRoute[] {
  // Webhook routes that key an HMAC with a base64 secret refuse values that decode to little.
  const verifiers = catalogue.webhookRoutes().map((r) => r.manifest.verify);
  const problemOf = (name: string, value: string) =>
    verifiers.flatMap((v) => (v.secret === name ? (keyProblem(v.method, value) ?? []) : []))[0];
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/secrets',
      operationId: 'listSecrets',
      summary: "List the tenant's secrets: names, key ids and dates, never values",
      tag: 'secrets',
      scope: 'tenant',
      responses: {
        200: {
          description: 'Every secret, by name.',
          schema: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: secretInfoSchema } },
          },
        },
      },
      async handler(ctx) {
        ctx.body = { items: await secrets.list(tenantOf(ctx)) };
      },
    }),
    defineRoute<{ name: string }, Record<string, never>, { value: string }>({
      method: 'PUT',
      path: '/v1/secrets/{name}',
      operationId: 'putSecret',
      summary: 'Create or replace a secret (write-only)',
      description:
        'The value is encrypted (AES-256-GCM) before it is stored and is never returned; the audit ' +
        'log records the write without it.',
      tag: 'secrets',
      scope: 'tenant',
      params: secretParams,
      body: {
        type: 'object',
        required: ['value'],
        additionalProperties: false,
        properties: { value: { type: 'string', minLength: 1, maxLength: MAX_VALUE_LENGTH } },
      },
      audit: { action: 'secrets.put', entityType: 'secret', redactBody: ['value'] },
      responses: { 201: { description: 'Created.' }, 204: { description: 'Replaced.' } },
      async handler(ctx, { params, body }) {
        const tenantId = tenantOf(ctx);
        const invalid = problemOf(params.name, body.value);
        if (invalid) throw problem.unprocessable(`${params.name}: ${invalid}`);
        // Whether the write created or replaced is known only after the upsert, and the
        // audit row records that status: both commit together.
        const { created } = await auditedTransaction<{ created: boolean }>(
          ctx,
          db,
          (result) => (result.created ? 201 : 204),
          (trx) => secrets.put(tenantId, params.name, body.value, trx),
          () => params.name,
        );
        // An explicit null body first (Koa would answer 201 with its status text), then the status.
        ctx.body = null;
        ctx.status = created ? 201 : 204;
      },
    }),
    defineDeleteRoute({
      db,
      path: '/v1/secrets/{name}',
      operationId: 'deleteSecret',
      summary: 'Delete a secret',
      description: 'Steps that read it afterwards fail as if it had never been set.',
      tag: 'secrets',
      params: secretParams,
      audit: { action: 'secrets.delete', entityType: 'secret' },
      remove: (tenantId, name, trx) => secrets.remove(tenantId, name, trx),
      notFound: (name) => `There is no secret "${name}".`,
    }),
  ] as AnyRoute[];
}
