/** Platform routes: tenant management, for tokens with the `admin` role only. */

import { readTenantSettings, tenantSettingsSchema, writeTenantSettings } from '../../db/tenant-settings.ts';
import {
  createTenant,
  getTenant,
  listTenants,
  type NewTenant,
  type Tenant,
  type TenantChanges,
  TenantExistsError,
  type TenantStatus,
  updateTenant,
} from '../../db/tenants.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { problem } from '../../problem.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { idParams, type PageQuery, pageOf, pageQuery, TENANT_ID_PATTERN } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

const nameSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: 200 };
const statusSchema: JsonSchema = { type: 'string', enum: ['active', 'disabled'] };

const tenantSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'status', 'config', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', pattern: TENANT_ID_PATTERN },
    name: nameSchema,
    status: statusSchema,
    config: { type: 'object', description: 'Values `tenant.config.*` templates read.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const tenantParams = idParams(TENANT_ID_PATTERN, 63);

export function tenantRoutes({ db, tenants }: RouteDeps): AnyRoute[] {
  const list = defineRoute<Record<string, string>, PageQuery & { status?: TenantStatus }>({
    method: 'GET',
    path: '/v1/tenants',
    operationId: 'listTenants',
    summary: 'List tenants',
    tag: 'tenants',
    scope: 'platform',
    query: pageQuery({ status: statusSchema }),
    responses: { 200: { description: 'A page of tenants, by id.', schema: pageOf(tenantSchema) } },
    async handler(ctx, { query }) {
      const items = await listTenants(db, {
        limit: query.limit,
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.cursor === undefined ? {} : { afterId: decodeCursor(query.cursor, 'string') }),
      });
      const last = items.at(-1);
      ctx.body = {
        items,
        ...(last && items.length === query.limit ? { nextCursor: encodeCursor(last.id) } : {}),
      };
    },
  });

  const get = defineRoute<{ id: string }>({
    method: 'GET',
    path: '/v1/tenants/{id}',
    operationId: 'getTenant',
    summary: 'Get a tenant',
    tag: 'tenants',
    scope: 'platform',
    params: tenantParams,
    errors: [404],
    responses: { 200: { description: 'The tenant.', schema: tenantSchema } },
    async handler(ctx, { params }) {
      const tenant = await getTenant(db, params.id);
      if (!tenant) throw problem.notFound(`There is no tenant "${params.id}".`);
      ctx.body = tenant;
    },
  });

  const create = defineRoute<Record<string, string>, Record<string, never>, NewTenant>({
    method: 'POST',
    path: '/v1/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant',
    tag: 'tenants',
    scope: 'platform',
    body: {
      type: 'object',
      required: ['id', 'name'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', pattern: TENANT_ID_PATTERN },
        name: nameSchema,
        config: { type: 'object' },
      },
    },
    errors: [409],
    audit: { action: 'tenants.create', entityType: 'tenant' },
    responses: {
      201: { description: 'Created.', schema: tenantSchema, headers: { location: "The tenant's URL." } },
    },
    async handler(ctx, { body }) {
      let tenant: Tenant;
      try {
        tenant = await auditedTransaction(
          ctx,
          db,
          201,
          (trx) => createTenant(trx, body),
          (t) => t.id,
        );
      } catch (err) {
        if (err instanceof TenantExistsError) throw problem.conflict(`Tenant "${body.id}" already exists.`);
        throw err;
      }
      tenants.forget(tenant.id);
      ctx.status = 201;
      ctx.set('location', `/v1/tenants/${tenant.id}`);
      ctx.body = tenant;
    },
  });

  const update = defineRoute<{ id: string }, Record<string, never>, TenantChanges>({
    method: 'PATCH',
    path: '/v1/tenants/{id}',
    operationId: 'updateTenant',
    summary: 'Rename, disable or re-enable a tenant, or replace its config',
    description: "A disabled tenant's API calls are refused (403) within a few seconds on every process.",
    tag: 'tenants',
    scope: 'platform',
    params: tenantParams,
    body: {
      type: 'object',
      minProperties: 1,
      additionalProperties: false,
      properties: { name: nameSchema, status: statusSchema, config: { type: 'object' } },
    },
    errors: [404],
    audit: { action: 'tenants.update', entityType: 'tenant' },
    responses: { 200: { description: 'The updated tenant.', schema: tenantSchema } },
    async handler(ctx, { params, body }) {
      const tenant = await auditedTransaction(
        ctx,
        db,
        200,
        async (trx) => {
          const updated = await updateTenant(trx, params.id, body);
          if (!updated) throw problem.notFound(`There is no tenant "${params.id}".`);
          return updated;
        },
        (t) => t.id,
      );
      tenants.forget(tenant.id);
      ctx.body = tenant;
    },
  });

  return [list, get, create, update, ...settingsRoutes({ db })] as AnyRoute[];
}

/**
 * A tenant's admin-only settings: what the operator grants it on platform credentials
 * (mailboxes, LLM budget, Telegram chats) and other limits. Never readable or writable with
 * a tenant's token, and never part of `tenant.config`.
 */
function settingsRoutes({ db }: Pick<RouteDeps, 'db'>): AnyRoute[] {
  const schema = tenantSettingsSchema as unknown as JsonSchema;
  const read = defineRoute<{ id: string }>({
    method: 'GET',
    path: '/v1/tenants/{id}/settings',
    operationId: 'getTenantSettings',
    summary: "Get a tenant's admin-only settings",
    tag: 'tenants',
    scope: 'platform',
    params: tenantParams,
    errors: [404],
    responses: { 200: { description: 'The settings.', schema } },
    async handler(ctx, { params }) {
      const settings = await readTenantSettings(db, params.id);
      if (!settings) throw problem.notFound(`There is no tenant "${params.id}".`);
      ctx.body = settings;
    },
  });
  const replace = defineRoute<{ id: string }, Record<string, never>, Record<string, unknown>>({
    method: 'PUT',
    path: '/v1/tenants/{id}/settings',
    operationId: 'putTenantSettings',
    summary: "Replace a tenant's admin-only settings",
    description:
      'The whole document: keys left out are removed. Connectors read the new settings from their next call on.',
    tag: 'tenants',
    scope: 'platform',
    params: tenantParams,
    body: schema,
    errors: [404],
    audit: { action: 'tenants.settings.update', entityType: 'tenant' },
    responses: { 200: { description: 'The settings as stored.', schema } },
    async handler(ctx, { params, body }) {
      ctx.body = await auditedTransaction(
        ctx,
        db,
        200,
        async (trx) => {
          const stored = await writeTenantSettings(trx, params.id, body);
          if (!stored) throw problem.notFound(`There is no tenant "${params.id}".`);
          return stored;
        },
        () => params.id,
      );
    },
  });
  return [read, replace] as AnyRoute[];
}
