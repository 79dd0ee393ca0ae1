/**
 * What a changed row means to a tenant: one decoded change of a published table becomes at
 * most one event draft. An entity's `state` decides whether the change is news: an update that
 * leaves it as it was (a run's lease renewal, a token refresh) makes no event.
 */

export type Op = 'insert' | 'update' | 'delete';

export interface Change {
  table: string;
  op: Op;
  /** The new row (insert, update), or the key of a deleted row. */
  row: Record<string, unknown>;
}

export interface EventDraft {
  /** Unknown for a delete (only the key is logged): taken from the entity's last event. */
  tenantId: string | undefined;
  type: string;
  entityType: EntityType;
  entityId: string;
  state: string;
  data: Record<string, unknown>;
}

export const ENTITY_TYPES = ['run', 'job', 'integration', 'file', 'kb_document'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** Every event type a subscription may name (`run.*` and `*` too). */
export const EVENT_TYPES = [
  'run.queued',
  'run.running',
  'run.succeeded',
  'run.failed',
  'run.cancelled',
  'job.queued',
  'job.running',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'integration.connected',
  'integration.disconnected',
  'integration.deleted',
  'file.created',
  'file.deleted',
  'kb.document.ready',
  'kb.document.failed',
  'kb.document.deleted',
  'feed.gap',
] as const;

/** The actor of the `WEBHOOK_SEND` jobs that deliver the feed: `feed:<subscription id>`. */
export const FEED_ACTOR_PREFIX = 'feed:';

const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const iso = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString();
};
const json = (v: unknown): unknown => {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

export function toDraft(change: Change): EventDraft | undefined {
  const { row, op } = change;
  const id = str(row.id);
  if (!id) return undefined;
  const tenantId = str(row.tenant_id);
  switch (change.table) {
    case 'workflow_runs': {
      if (op === 'delete') return undefined;
      const status = str(row.status) ?? 'unknown';
      const attempt = Number(row.run_attempt ?? 1);
      return {
        tenantId,
        type: `run.${status}`,
        entityType: 'run',
        entityId: id,
        state: `${status}/${attempt}`,
        data: {
          id,
          workflowId: str(row.workflow_id) ?? null,
          status,
          runAttempt: attempt,
          error: json(row.error),
          createdAt: iso(row.created_at),
          startedAt: iso(row.started_at),
          finishedAt: iso(row.finished_at),
        },
      };
    }
    case 'jobs': {
      // The feed's own deliveries are not news: a subscription to job.* would feed itself.
      if (op === 'delete' || str(row.actor)?.startsWith(FEED_ACTOR_PREFIX)) return undefined;
      const status = str(row.status) ?? 'unknown';
      return {
        tenantId,
        type: `job.${status}`,
        entityType: 'job',
        entityId: id,
        state: `${status}/${Number(row.attempts ?? 0)}`,
        data: {
          id,
          type: str(row.type) ?? null,
          status,
          attempts: Number(row.attempts ?? 0),
          lastError: json(row.last_error),
          createdAt: iso(row.created_at),
          finishedAt: iso(row.finished_at),
        },
      };
    }
    case 'integrations': {
      // Never the tokens: provider, account and status only.
      if (op === 'delete') {
        return {
          tenantId,
          type: 'integration.deleted',
          entityType: 'integration',
          entityId: id,
          state: 'deleted',
          data: { id },
        };
      }
      const status = str(row.status) ?? 'connected';
      return {
        tenantId,
        type: `integration.${status}`,
        entityType: 'integration',
        entityId: id,
        state: status,
        data: {
          id,
          provider: str(row.provider) ?? null,
          account: str(row.account) ?? null,
          status,
          statusReason: str(row.status_reason) ?? null,
        },
      };
    }
    case 'files': {
      if (op === 'delete') {
        return {
          tenantId,
          type: 'file.deleted',
          entityType: 'file',
          entityId: id,
          state: 'deleted',
          data: { id },
        };
      }
      const deleted = row.deleted_at !== null && row.deleted_at !== undefined;
      if (!deleted && str(row.status) !== 'ready') return undefined;
      return {
        tenantId,
        type: deleted ? 'file.deleted' : 'file.created',
        entityType: 'file',
        entityId: id,
        state: deleted ? 'deleted' : 'ready',
        data: {
          id,
          name: str(row.name) ?? null,
          contentType: str(row.content_type) ?? null,
          size: Number(row.size ?? 0),
          sha256: str(row.sha256) ?? null,
        },
      };
    }
    case 'kb_documents':
      return kbDocumentDraft(op, id, tenantId, row);
    default:
      return undefined;
  }
}

/**
 * A knowledge-base document: `ready` when a version was ingested, `failed` when an ingestion
 * failed (a document that had a good version keeps it: `status` stays `ready`, `error` says
 * why), `deleted`. Its state is its content hash and last error, so a re-ingest that changed
 * nothing makes no event.
 */
function kbDocumentDraft(
  op: Op,
  id: string,
  tenantId: string | undefined,
  row: Record<string, unknown>,
): EventDraft {
  if (op === 'delete')
    return {
      tenantId,
      type: 'kb.document.deleted',
      entityType: 'kb_document',
      entityId: id,
      state: 'deleted',
      data: { id },
    };
  const status = str(row.status) ?? 'ready';
  const error = json(row.error) as { reason?: string } | null;
  const failed = status === 'failed' || (error !== null && typeof error === 'object');
  return {
    tenantId,
    type: failed ? 'kb.document.failed' : 'kb.document.ready',
    entityType: 'kb_document',
    entityId: id,
    state: `${status}/${str(row.content_hash) ?? ''}/${failed ? (error?.reason ?? 'failed') : ''}`,
    data: {
      id,
      source: str(row.source_key) ?? null,
      sourceType: str(row.source_type) ?? null,
      title: str(row.title) ?? null,
      status,
      error: failed ? error : null,
      chunks: Number(row.chunk_count ?? 0),
      tokens: Number(row.token_count ?? 0),
      contentHash: str(row.content_hash) ?? null,
      updatedAt: iso(row.updated_at),
    },
  };
}

/** Whether a subscription's patterns (`run.succeeded`, `run.*`, `*`) take an event type. */
export function matchesType(patterns: readonly string[], type: string): boolean {
  return patterns.some(
    (p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))),
  );
}

/** The event id receivers de-duplicate on (the `webhook-id`, the SSE `id` is the number). */
export const eventId = (id: number | string): string => `evt_${id}`;
