/**
 * The notifier: turns due events of the notification outbox into typed jobs, one per channel
 * (`TELEGRAM_SEND`, `EMAIL_SEND`, `WEBHOOK_SEND`), so every message goes through a connector
 * with the tenant's credentials (or the platform's, where the operator allows), audited and
 * retried like any job.
 *
 * Throttle: at most one message per tenant, kind and subject (a workflow, a job type, a
 * provider, a quota) per window (15 minutes). Events that arrive while a window is open wait
 * until it ends, then go together as one digest. Each subject is decided under its window row's
 * lock, and its events are taken `for update skip locked`, so processes sweeping at the same
 * time never send one event twice nor two messages in one window.
 */
import type { Knex } from 'knex';
import {
  type DueSubject,
  deleteEvents,
  dueSubjects,
  getNotificationSettings,
  holdEvents,
  lockWindow,
  markSent,
  type NotificationEventRow,
  takeDueEvents,
} from '../db/notifications.ts';
import type { Logger } from '../log.ts';
import { compose, type Message } from './messages.ts';
import { NOTIFY_ACTOR } from './record.ts';
import type { NotificationChannels } from './settings.ts';

export const NOTIFY_WINDOW_MS = 15 * 60_000;
/** After a subject failed to send (a bug, the database): try it again this much later. */
const BACKOFF_MS = 60_000;
const SUBJECTS_PER_SWEEP = 100;
const EVENTS_PER_MESSAGE = 1_000;

export interface NotifyJob {
  tenantId: string;
  type: string;
  payload: unknown;
  actor: string;
  idempotencyKey: string;
}

export interface NotifierDeps {
  db: Knex;
  log: Logger;
  /** Queues a typed job in `trx` (the runtime's `enqueueJob`). */
  enqueue(job: NotifyJob, trx: Knex.Transaction): Promise<unknown>;
  /** A single-use connect link for the provider, committed with `trx`; throws when it cannot be made. */
  connectLink?(
    tenantId: string,
    provider: string,
    trx: Knex.Transaction,
  ): Promise<{ url: string; expiresAt: Date }>;
  windowMs?: number;
}

export class Notifier {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;

  constructor(private readonly deps: NotifierDeps) {}

  /** Sweeps every `everyMs`; `stop()` ends it. */
  start(everyMs = 1_000): void {
    this.#timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.deps.log.warn({ err }, 'notify: sweep failed'));
    }, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** Sends what is due now; resolves with the number of messages queued. One sweep at a time. */
  sweep(): Promise<number> {
    if (this.#stopped) return Promise.resolve(0);
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<number> {
    let sent = 0;
    for (const subject of await dueSubjects(this.deps.db, SUBJECTS_PER_SWEEP)) {
      if (this.#stopped) break;
      try {
        sent += await this.deps.db.transaction((trx) => this.#subject(trx, subject));
      } catch (err) {
        this.deps.log.error({ err, ...subject }, 'notify: could not send; trying again in a minute');
        await this.#postpone(subject).catch(() => {});
      }
    }
    return sent;
  }

  async #subject(trx: Knex.Transaction, s: DueSubject): Promise<number> {
    const window = await lockWindow(trx, s, this.deps.windowMs ?? NOTIFY_WINDOW_MS);
    const events = await takeDueEvents(trx, s, EVENTS_PER_MESSAGE);
    if (events.length === 0) return 0;
    const ids = events.map((e) => e.id);
    if (window.openUntil) {
      // A message about this subject went out less than a window ago: these wait for its end.
      await holdEvents(trx, s.tenant_id, ids, window.openUntil);
      return 0;
    }
    const settings = await getNotificationSettings(trx, s.tenant_id);
    await deleteEvents(trx, s.tenant_id, ids);
    if (!settings?.events.includes(s.kind)) return 0;
    const link = await this.#link(trx, s, events);
    const message = compose(s.tenant_id, events, link);
    const queued = await this.#queue(trx, s, events[0]!, settings.channels as NotificationChannels, message);
    if (queued > 0) await markSent(trx, s);
    return queued > 0 ? 1 : 0;
  }

  /** For a disconnected integration: the link that reconnects it, when one can be made. */
  async #link(trx: Knex.Transaction, s: DueSubject, events: readonly NotificationEventRow[]) {
    if (s.kind !== 'integration.disconnected' || !this.deps.connectLink) return undefined;
    try {
      return await trx.transaction((sp) => this.deps.connectLink!(s.tenant_id, s.subject, sp));
    } catch (err) {
      this.deps.log.warn(
        { err, tenant: s.tenant_id, provider: s.subject, events: events.length },
        'notify: no connect link for the reconnect message',
      );
      return undefined;
    }
  }

  /** One job per channel, each in a savepoint: a channel that cannot be queued spares the others. */
  async #queue(
    trx: Knex.Transaction,
    s: DueSubject,
    first: NotificationEventRow,
    channels: NotificationChannels,
    m: Message,
  ): Promise<number> {
    let queued = 0;
    for (const [channel, type, payload] of jobsFor(s, channels, m)) {
      const job = {
        tenantId: s.tenant_id,
        type,
        payload,
        actor: NOTIFY_ACTOR,
        idempotencyKey: `notify:${first.id}:${channel}`,
      };
      try {
        await trx.transaction((sp) => this.deps.enqueue(job, sp));
        queued++;
      } catch (err) {
        this.deps.log.warn({ err, tenant: s.tenant_id, channel, kind: s.kind }, 'notify: channel refused');
      }
    }
    return queued;
  }

  async #postpone(s: DueSubject): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      const events = await takeDueEvents(trx, s, EVENTS_PER_MESSAGE);
      const until = new Date(Date.now() + BACKOFF_MS);
      await holdEvents(
        trx,
        s.tenant_id,
        events.map((e) => e.id),
        until,
      );
    });
  }
}

function jobsFor(
  s: DueSubject,
  channels: NotificationChannels,
  m: Message,
): Array<[channel: string, type: string, payload: unknown]> {
  const out: Array<[string, string, unknown]> = [];
  if (channels.telegram)
    out.push(['telegram', 'TELEGRAM_SEND', { chat_id: channels.telegram.chatId, text: m.text }]);
  if (channels.email)
    out.push(['email', 'EMAIL_SEND', { to: channels.email.to, subject: m.title, text: m.text }]);
  if (channels.webhook)
    out.push([
      'webhook',
      'WEBHOOK_SEND',
      { url: channels.webhook.url, type: `atlas.${s.kind}`, data: m.data, secret: channels.webhook.secret },
    ]);
  return out;
}
