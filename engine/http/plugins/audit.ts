/**
 * auditPlugin: every mutation (POST, PUT, PATCH, DELETE) leaves a row in `audit_log` with the
 * tenant, the actor (`sub`), the action, the entity, the request id, the result status and a
 * redacted summary of the input.
 *
 * Where the change is made in this database by the route itself, the route calls
 * {@link auditedTransaction} and the row commits in the same transaction as the change.
 * Otherwise (the runtime commits its own transaction, or the request failed) the plugin
 * writes the row when the response is known.
 */
import type { Knex } from 'knex';
import type { Next } from 'koa';
import { REDACTED } from '../../audit/redact.ts';
import { type AuditRecord, recordAudit, recordAudits, withAuditEntry } from '../../db/audit.ts';
import { groupPerDatabase } from '../../db/group-commit.ts';
import { AtlasError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ApiContext, AuditState } from '../context.ts';
import { toProblem } from '../middleware.ts';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function auditPlugin(db: Knex, log: Logger) {
  return async (ctx: ApiContext, next: Next) => {
    const audit = ctx.state.route?.spec.audit;
    if (!audit || !MUTATIONS.has(ctx.method)) return next();
    const state: AuditState = { recorded: false };
    ctx.state.audit = state;
    try {
      await next();
    } catch (err) {
      await writeLate(db, log, entryFor(ctx, toProblem(err).status, 'error'));
      throw err;
    }
    if (!state.recorded)
      await writeLate(db, log, entryFor(ctx, ctx.status, ctx.status < 400 ? 'ok' : 'error'));
  };
}

/**
 * An entry written after the fact must not turn an accomplished change into an error
 * response (the client would retry it); a failure to write it is logged whole instead, so
 * the entry can be restored from the logs.
 */
async function writeLate(db: Knex, log: Logger, entry: AuditRecord): Promise<void> {
  try {
    await recordAudit(db, entry);
  } catch (err) {
    log.error({ err, audit: entry }, 'audit:not-written');
  }
}

function entryFor(ctx: ApiContext, status: number, result: 'ok' | 'error'): AuditRecord {
  const spec = ctx.state.route?.spec;
  const state = ctx.state.audit;
  return {
    tenantId: ctx.state.tenantId ?? null,
    actor: ctx.state.principal?.sub ?? 'anonymous',
    action: spec?.audit?.action ?? `${ctx.method} ${ctx.path}`,
    entityType: spec?.audit?.entityType ?? 'unknown',
    entityId: state?.entityId ?? ctx.state.params.id ?? null,
    requestId: ctx.state.requestId,
    status,
    result,
    summary: {
      ...(Object.keys(ctx.state.params).length > 0 ? { params: ctx.state.params } : {}),
      ...(ctx.state.body === undefined
        ? {}
        : { body: withoutFields(ctx.state.body, spec?.audit?.redactBody) }),
      ...state?.summary,
    },
  };
}

/** The body with the listed top-level fields replaced, before it reaches the summary. */
function withoutFields(body: unknown, fields: readonly string[] | undefined): unknown {
  if (!fields || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...body };
  for (const field of fields) if (field in out) out[field] = REDACTED;
  return out;
}

/**
 * Runs a change and its audit row in one transaction, so neither exists without the other.
 * `entityId` names what the change touched once it is known; `status`, the response status
 * the row records, may depend on the result (a write that created or replaced).
 *
 * The transaction runs as the engine, not as `atlas_app`: a change made through the runtime
 * also writes tables no tenant owns (manifest versions, the queue), and the runtime scopes
 * its statements by tenant itself.
 */
export async function auditedTransaction<T>(
  ctx: ApiContext,
  db: Knex,
  status: number | ((result: T) => number),
  change: (trx: Knex.Transaction) => Promise<T>,
  entityId: (result: T) => string,
): Promise<T> {
  const result = await withAuditEntry(db, change, (result) => {
    if (ctx.state.audit) ctx.state.audit.entityId = entityId(result);
    return entryFor(ctx, typeof status === 'number' ? status : status(result), 'ok');
  });
  if (ctx.state.audit) ctx.state.audit.recorded = true;
  return result;
}

interface SharedChange {
  change(trx: Knex.Transaction): Promise<unknown>;
  entry(result: unknown): AuditRecord;
}

const shared = groupPerDatabase<SharedChange, unknown>((db, items) =>
  db.transaction(async (trx) => {
    // Started together, so that their run inserts are sent as one statement (run-inserts.ts).
    const results = await Promise.all(items.map((item) => refusalOrResult(() => item.change(trx))));
    await recordAudits(
      trx,
      items.flatMap((item, i) => (results[i] instanceof Refused ? [] : [item.entry(results[i])])),
    );
    return results;
  }),
);

/**
 * {@link auditedTransaction} for a change that only inserts (starting a run): changes that
 * arrive while one transaction is being written share the next one, each with its audit row,
 * so concurrent requests cost one durable commit between them. A change that fails fails
 * the shared transaction, which is then retried one change at a time (db/group-commit.ts).
 */
export async function sharedAuditedTransaction<T>(
  ctx: ApiContext,
  db: Knex,
  status: number,
  change: (trx: Knex.Transaction) => Promise<T>,
  entityId: (result: T) => string,
): Promise<T> {
  const outcome = await shared.of(db).submit({
    change,
    entry: (r) => {
      if (ctx.state.audit) ctx.state.audit.entityId = entityId(r as T);
      return entryFor(ctx, status, 'ok');
    },
  });
  if (outcome instanceof Refused) throw outcome.error;
  if (ctx.state.audit) ctx.state.audit.recorded = true;
  return outcome as T;
}

/** A change the engine refused (invalid input, say) before it wrote anything. */
class Refused {
  constructor(readonly error: AtlasError) {}
}

/**
 * What one change of a shared transaction gave. The engine's refusals are its own outcome,
 * so one client's invalid request does not roll back the others'; any other error (the
 * database's) fails the shared transaction, which is then retried one change at a time. A
 * refusal after a failed statement cannot pass as success either: the aborted transaction
 * fails the audit statement that follows any successful change.
 */
async function refusalOrResult(change: () => Promise<unknown>): Promise<unknown> {
  try {
    return await change();
  } catch (err) {
    if (err instanceof AtlasError) return new Refused(err);
    throw err;
  }
}
