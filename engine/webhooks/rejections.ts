/**
 * Refused deliveries: never in the append-only audit log (anyone can send them), but
 * counted, aggregated and throttled.
 *
 * - {@link RejectionLog} sums refusals in memory per route, reason and minute and adds the
 *   sums to `webhook_rejections` once a second (and at stop): a flood costs one upsert per
 *   second, whatever its rate.
 * - {@link RejectionLimiter} counts each source's refusals per route in fixed one-minute
 *   windows; past the limit the source gets 429 on that route, before anything is read,
 *   until the window ends. A provider retries a 429, so a valid delivery caught by it is
 *   delayed, not lost. The counts are per process.
 */
import type { Knex } from 'knex';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { addRejections, deleteRejectionsBefore, type RejectionSum } from '../db/webhook-rejections.ts';
import type { Logger } from '../log.ts';

const MINUTE_MS = 60_000;
/** How long aggregated refusals are kept. */
const REJECTION_RETENTION_MS = 30 * 86_400_000;

export class RejectionLog {
  readonly #pending = new Map<string, RejectionSum>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Knex,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    everyMs = 1000,
  ) {
    this.#timer = setInterval(() => void this.flush(), everyMs).unref();
  }

  record(route: string, reason: string, status: number, source: string): void {
    const at = this.now().getTime();
    const minute = new Date(at - (at % MINUTE_MS)).toISOString();
    const key = `${route}\u0000${reason}\u0000${minute}`;
    const entry = this.#pending.get(key);
    if (entry) {
      entry.count += 1;
      entry.status = status;
      entry.last_source = source;
    } else {
      this.#pending.set(key, { route_id: route, reason, minute, status, count: 1, last_source: source });
    }
  }

  /** Adds what is pending to the table; a failed write keeps nothing (the metrics still count). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const rows = [...this.#pending.values()];
      this.#pending.clear();
      try {
        await addRejections(this.db, rows);
      } catch (err) {
        this.log.warn({ err, rows: rows.length }, 'webhook:rejections-not-recorded');
      }
    });
    return this.#flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

export class RejectionLimiter {
  readonly #limiter: RateLimiterMemory;

  constructor(private readonly limit: number) {
    this.#limiter = new RateLimiterMemory({ points: limit, duration: MINUTE_MS / 1000 });
  }

  /** Seconds until `source` may be refused again on `route`, or 0 when it is under the limit. */
  async blockedFor(route: string, source: string): Promise<number> {
    const state = await this.#limiter.get(`${route}\u0000${source}`);
    if (state === null || state.consumedPoints < this.limit) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  async refused(route: string, source: string): Promise<void> {
    await this.#limiter.penalty(`${route}\u0000${source}`, 1);
  }
}

/** Deletes aggregated refusals older than the retention; returns how many rows went. */
export async function pruneWebhookRejections(db: Knex, now: Date = new Date()): Promise<number> {
  return deleteRejectionsBefore(db, new Date(now.getTime() - REJECTION_RETENTION_MS));
}
