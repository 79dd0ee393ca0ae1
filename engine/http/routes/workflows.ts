/**
 * Workflows: the catalogue's workflows as this tenant sees them (enabled? next scheduled
 * times), the tenant's enablement and config, and manual runs.
 */
import { CronExpressionParser } from 'cron-parser';
import { didYouMean } from '../../connector-sdk/index.ts';
import type { CatalogueEntry } from '../../manifest/catalogue.ts';
import type { Workflow } from '../../manifest/types.gen.ts';
import { problem } from '../../problem.ts';
import type { WorkflowStatus } from '../../runtime/index.ts';
import { principalOf, tenantOf } from '../context.ts';
import { sharedAuditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { callRuntime } from '../runtime-errors.ts';
import { runSummarySchema } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

export const MANIFEST_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const workflowParams: JsonSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: MANIFEST_ID_PATTERN } },
};

/** How many upcoming schedule times a workflow shows. */
const NEXT_RUNS = 3;
/** An Idempotency-Key is an opaque client token; printable ASCII keeps it loggable. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

const workflowSummarySchema: JsonSchema = {
  type: 'object',
  required: ['id', 'hash', 'trigger', 'enabled', 'nextRuns'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    hash: { type: 'string', description: 'sha256 of the manifest: the version a new run pins.' },
    trigger: { type: 'string', enum: ['schedule', 'webhook', 'manual', 'event'] },
    enabled: { type: 'boolean', description: 'Whether this tenant runs it.' },
    enabledBy: {
      type: 'string',
      enum: ['tenant', 'default'],
      description:
        '`tenant`: the tenant enabled or disabled it; `default`: the manifest says `enabled: default` and the tenant chose nothing.',
    },
    requirements: {
      type: 'string',
      description: 'What it needs from a tenant: secrets, platform credentials, integrations, config.',
    },
    skipped: {
      type: 'string',
      description:
        'A default-on workflow this tenant lacks something for: why schedules, webhooks and events skip it now.',
    },
    lastSkip: {
      type: 'object',
      required: ['reason', 'trigger', 'at', 'count'],
      properties: {
        reason: { type: 'string' },
        trigger: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
        count: { type: 'integer' },
      },
      description: 'The latest time a trigger skipped this tenant, and how often it did.',
    },
    nextRuns: {
      type: 'array',
      items: { type: 'string', format: 'date-time' },
      description: 'Next schedule times (UTC).',
    },
    nextRun: {
      type: ['string', 'null'],
      format: 'date-time',
      description:
        'When the schedule next starts a run for this tenant: null unless it runs for this tenant.',
    },
  },
};

const workflowDetailSchema: JsonSchema = {
  type: 'object',
  required: [...(workflowSummarySchema.required as string[]), 'manifest', 'config'],
  properties: {
    ...(workflowSummarySchema.properties as Record<string, JsonSchema>),
    manifest: { type: 'object', description: 'The Workflow manifest.' },
    config: { type: 'object', description: "This tenant's values for `tenant.config.*` templates." },
  },
};

const stateSchema: JsonSchema = {
  type: 'object',
  required: ['enabled'],
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    config: { type: 'object', description: 'Replaces the tenant config of this workflow when given.' },
  },
};

export function nextRuns(workflow: Workflow, from = new Date()): string[] {
  if (workflow.trigger.type !== 'schedule') return [];
  const expression = CronExpressionParser.parse(workflow.trigger.cron, { tz: 'UTC', currentDate: from });
  return expression.take(NEXT_RUNS).map((d) => d.toISOString() ?? '');
}

function summary(entry: CatalogueEntry<Workflow>, status: WorkflowStatus | undefined) {
  const { manifest } = entry;
  const enabled = status?.enabled ?? false;
  const upcoming = nextRuns(manifest);
  return {
    id: manifest.id,
    ...(manifest.name === undefined ? {} : { name: manifest.name }),
    ...(manifest.description === undefined ? {} : { description: manifest.description }),
    hash: entry.hash,
    trigger: manifest.trigger.type,
    enabled,
    enabledBy: status?.chosen === false && status.byDefault ? 'default' : 'tenant',
    requirements: status?.requirements ?? 'none',
    ...(status?.missing === undefined ? {} : { skipped: status.missing }),
    ...(status?.lastSkip === undefined ? {} : { lastSkip: status.lastSkip }),
    nextRuns: upcoming,
    // A default-on workflow the tenant lacks something for is skipped by its schedule.
    nextRun: enabled && status?.missing === undefined ? (upcoming[0] ?? null) : null,
  };
}

export function workflowRoutes({ db, runtime, catalogue }: RouteDeps): AnyRoute[] {
  const find = (id: string) => {
    const entry = catalogue.workflow(id);
    if (!entry) {
      const ids = catalogue.workflows().map((e) => e.manifest.id);
      throw problem.notFound(
        `There is no workflow "${id}" in the catalogue loaded at ${catalogue.loadedAt.toISOString()}${didYouMean(id, ids)}. ` +
          'A manifest added since is served after a reload: SIGHUP, or `atlas serve --watch`.',
      );
    }
    return entry;
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/workflows',
      operationId: 'listWorkflows',
      summary: 'List the catalogue’s workflows, with this tenant’s enablement',
      tag: 'workflows',
      scope: 'tenant',
      responses: {
        200: {
          description: 'Every workflow, by id.',
          schema: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: workflowSummarySchema } },
          },
        },
      },
      async handler(ctx) {
        const tenantId = tenantOf(ctx);
        const entries = catalogue.workflows();
        const statuses = await callRuntime(() => runtime.workflowStatuses(tenantId));
        ctx.body = { items: entries.map((e) => summary(e, statuses.get(e.manifest.id))) };
      },
    }),
    defineRoute<{ id: string }>({
      method: 'GET',
      path: '/v1/workflows/{id}',
      operationId: 'getWorkflow',
      summary: 'Get a workflow: manifest, hash, next schedule times, this tenant’s enablement and config',
      tag: 'workflows',
      scope: 'tenant',
      params: workflowParams,
      responses: { 200: { description: 'The workflow.', schema: workflowDetailSchema } },
      async handler(ctx, { params }) {
        const entry = find(params.id);
        const statuses = await callRuntime(() => runtime.workflowStatuses(tenantOf(ctx)));
        const status = statuses.get(params.id);
        ctx.body = { ...summary(entry, status), manifest: entry.manifest, config: status?.config ?? {} };
      },
    }),
    defineRoute<
      { id: string },
      Record<string, never>,
      { enabled: boolean; config?: Record<string, unknown> }
    >({
      method: 'PUT',
      path: '/v1/workflows/{id}/enabled',
      operationId: 'setWorkflowEnabled',
      summary: 'Enable or disable a workflow for this tenant, and set its tenant config',
      tag: 'workflows',
      scope: 'tenant',
      params: workflowParams,
      body: stateSchema,
      audit: { action: 'workflows.set_enabled', entityType: 'workflow' },
      responses: {
        200: {
          description: 'The new state.',
          schema: { type: 'object', required: ['enabled', 'config'], properties: stateSchema.properties },
        },
      },
      async handler(ctx, { params, body }) {
        find(params.id);
        const tenantId = tenantOf(ctx);
        ctx.body = await callRuntime(() => runtime.setWorkflowState(tenantId, params.id, body));
      },
    }),
    defineRoute<{ id: string }, Record<string, never>, { input?: unknown }>({
      method: 'POST',
      path: '/v1/workflows/{id}/runs',
      operationId: 'triggerRun',
      summary: 'Start a run',
      description:
        "The input is checked against the workflow's input schema. With an `Idempotency-Key` header, " +
        'a repeated request returns the run the first one started (`Idempotent-Replayed: true`).',
      tag: 'runs',
      scope: 'tenant',
      params: workflowParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { input: { description: "The run input; the workflow's input schema applies." } },
      },
      bodyRequired: false,
      bodyHint: 'The run input goes under "input": {"input": {"name": "Ada"}}.',
      errors: [404, 409],
      audit: { action: 'runs.trigger', entityType: 'run' },
      responses: {
        202: {
          description: 'Accepted: the run is queued.',
          schema: runSummarySchema,
          headers: {
            location: "The run's URL.",
            'idempotent-replayed': '`true` when an earlier request started it.',
          },
        },
      },
      async handler(ctx, { params, body }) {
        find(params.id);
        const key = ctx.get('idempotency-key');
        if (key !== '' && !IDEMPOTENCY_KEY.test(key)) {
          throw problem.badRequest('The Idempotency-Key header must be 1 to 200 printable ASCII characters.');
        }
        const request = {
          tenantId: tenantOf(ctx),
          workflowId: params.id,
          input: body?.input ?? {},
          actor: principalOf(ctx).sub,
          ...(key === '' ? {} : { idempotencyKey: key }),
        };
        if (ctx.state.audit) ctx.state.audit.summary = { workflowId: params.id };
        const { run, created } = await callRuntime(() =>
          sharedAuditedTransaction(
            ctx,
            db,
            202,
            (trx) => runtime.trigger(request, trx),
            (r) => r.run.id,
          ),
        );
        ctx.status = 202;
        ctx.set('location', `/v1/runs/${run.id}`);
        if (!created) ctx.set('idempotent-replayed', 'true');
        ctx.body = run;
      },
    }),
  ] as AnyRoute[];
}
