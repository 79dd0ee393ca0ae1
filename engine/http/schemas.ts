/**
 * The JSON Schemas (draft 2020-12) of the API's shapes, as data: routes validate requests
 * with them and the OpenAPI document embeds them. Types for handlers sit beside each schema.
 */
import type { JsonSchema } from './route.ts';

export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

export const problemSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { pointer: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

/** A record of free-form values (tenant config, run input). */
export const objectSchema: JsonSchema = { type: 'object' };

export const idParams = (pattern?: string, maxLength = 128): JsonSchema => ({
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength, ...(pattern ? { pattern } : {}) } },
});

export const uuidParams: JsonSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
};

/** A URL that works until `expiresAt`: a signed download, a provider's authorization, a connect link. */
export const expiringUrlSchema = (urlDescription?: string): JsonSchema => ({
  type: 'object',
  required: ['url', 'expiresAt'],
  properties: {
    url: {
      type: 'string',
      format: 'uri',
      ...(urlDescription === undefined ? {} : { description: urlDescription }),
    },
    expiresAt: { type: 'string', format: 'date-time' },
  },
});

export const limitSchema: JsonSchema = { type: 'integer', minimum: 1, maximum: 200, default: 50 };
export const cursorSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: 512 };

/** An object with these properties, of which `required` must be present. */
export function objectOf(required: readonly string[], properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', required: [...required], properties };
}

/** A route's query: the parameters it names, and no others. */
export function querySchema(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', additionalProperties: false, properties };
}

/** The query of a keyset-paginated list: its filters, then `limit` and `cursor`. */
export function pageQuery(filters: Record<string, JsonSchema>): JsonSchema {
  return querySchema({ ...filters, limit: limitSchema, cursor: cursorSchema });
}

/**
 * `{ items, nextCursor? }`: a page of a keyset-paginated list; `beside` are further fields the
 * answer always carries (a list's usage, say).
 */
export function pageOf(item: JsonSchema, beside: Record<string, JsonSchema> = {}): JsonSchema {
  return objectOf(['items', ...Object.keys(beside)], {
    items: { type: 'array', items: item },
    nextCursor: { type: 'string', description: 'Pass as `cursor` for the next page; absent on the last.' },
    ...beside,
  });
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface PageQuery {
  limit: number;
  cursor?: string;
}

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;

/** A run or job as the runtime reports it; the runtime owns the exact fields. */
export const runSummarySchema: JsonSchema = {
  type: 'object',
  required: ['id', 'workflowId', 'status'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    workflowId: { type: 'string' },
    status: { type: 'string', enum: [...RUN_STATUSES] },
  },
};

export const runDetailSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'workflowId', 'status'],
  properties: {
    ...(runSummarySchema.properties as Record<string, JsonSchema>),
    output: {
      description: "The workflow's `output:` as the run rendered it; null until it succeeds, or without one.",
    },
    steps: {
      type: 'array',
      description: 'Every step with its attempts: rendered input, output, error.',
      items: { type: 'object' },
    },
    calledBy: {
      type: ['object', 'null'],
      description: 'The run and step whose `workflow.run` started this run; null for a run nobody called.',
      required: ['runId', 'stepId'],
      properties: { runId: { type: 'string', format: 'uuid' }, stepId: { type: 'string' } },
    },
    calls: {
      type: 'array',
      description: 'The child runs this run started with `workflow.run`, oldest first.',
      items: {
        type: 'object',
        required: ['runId', 'workflowId', 'stepId', 'status'],
        properties: {
          runId: { type: 'string', format: 'uuid' },
          workflowId: { type: 'string' },
          stepId: { type: 'string' },
          status: { type: 'string', enum: [...RUN_STATUSES] },
        },
      },
    },
    signals: {
      type: 'array',
      description: 'Every signal the run received, oldest first.',
      items: {
        type: 'object',
        required: ['name', 'stepId', 'payload', 'sender', 'receivedAt'],
        properties: {
          name: { type: 'string' },
          stepId: { type: 'string', description: 'The `core.waitForSignal` step whose wait it ended.' },
          payload: {},
          sender: { type: 'string' },
          receivedAt: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
};

export const jobSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'type', 'status'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    type: { type: 'string' },
    status: { type: 'string', enum: [...RUN_STATUSES] },
    attempts: { type: 'integer' },
    lastError: {},
    result: {},
  },
};

/** The answer of a route that queues a job: 202, the job, and its URL in `Location`. */
export const jobAccepted = {
  description: 'Accepted: the job is queued.',
  schema: jobSchema,
  headers: { location: "The job's URL." },
};
