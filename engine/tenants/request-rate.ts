/**
 * A tenant's API request rate, counted over every API process in one-second windows of
 * `rate_limit_windows` (the database's clock). A process takes a tenth of a window's
 * allowance at a time and spends it locally, so a tenant at full speed costs each process
 * about ten upserts a second, not one per request; once the window is spent, it refuses
 * locally until the window ends. Granted slots a process did not use lapse with the window:
 * a tenant may get a little less than its limit, never more.
 */
import type { Knex } from 'knex';
import { deleteExpiredWindows, takeWindowSlots } from '../db/rate-limit-windows.ts';

const WINDOW_MS = 1_000;
/** Each grant asks for this share of the limit (at least one request). */
const SHARE = 10;
/** How often (at most) a process deletes expired windows. */
const SWEEP_EVERY_MS = 60_000;

interface Allowance {
  /** Local time the window ends. */
  until: number;
  /** Requests granted to this process and not yet spent. */
  left: number;
  /** The window is spent for every process. */
  spent: boolean;
}

export class TenantRequestRate {
  readonly #allowances = new Map<string, Allowance>();
  readonly #grants = new Map<string, Promise<void>>();
  #nextSweepAt = 0;

  constructor(private readonly db: Knex) {}

  /**
   * Spends one request of `tenantId` at `perSecond` (0: no limit). Returns 0 when it may go
   * on, else the milliseconds until the window ends.
   */
  async take(tenantId: string, perSecond: number): Promise<number> {
    if (perSecond <= 0) return 0;
    for (let tries = 0; tries < 3; tries++) {
      const now = Date.now();
      const allowance = this.#allowances.get(tenantId);
      if (allowance && now < allowance.until) {
        if (allowance.left > 0) {
          allowance.left--;
          return 0;
        }
        if (allowance.spent) return allowance.until - now;
      }
      await this.#grant(tenantId, perSecond);
    }
    // Grants went to concurrent requests three times over: this one waits for the next window.
    return Math.max(1, (this.#allowances.get(tenantId)?.until ?? Date.now() + WINDOW_MS) - Date.now());
  }

  /** One grant at a time per tenant; concurrent requests wait for it. */
  #grant(tenantId: string, perSecond: number): Promise<void> {
    let pending = this.#grants.get(tenantId);
    if (!pending) {
      pending = this.#ask(tenantId, perSecond).finally(() => this.#grants.delete(tenantId));
      this.#grants.set(tenantId, pending);
    }
    return pending;
  }

  async #ask(tenantId: string, perSecond: number): Promise<void> {
    const want = Math.max(1, Math.ceil(perSecond / SHARE));
    const key = `api:${tenantId}@${perSecond}/${WINDOW_MS}`;
    if (Date.now() >= this.#nextSweepAt) {
      this.#nextSweepAt = Date.now() + SWEEP_EVERY_MS;
      await deleteExpiredWindows(this.db);
    }
    const { granted, remainingMs } = await takeWindowSlots(this.db, key, WINDOW_MS, want, perSecond);
    if (this.#allowances.size > 10_000) this.#allowances.clear();
    this.#allowances.set(tenantId, { until: Date.now() + remainingMs, left: granted, spent: granted < want });
  }
}
