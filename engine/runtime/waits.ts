/**
 * Durable waits: steps that park their run instead of running an action. `core.sleep` with a
 * `duration` and `core.waitUntil` are recorded as a `waiting` attempt whose `retry_at` is the
 * resume time and whose `output` is what the step outputs then; the run holds no worker
 * meanwhile (status `waiting`), and its queue job, due at that time, resumes it.
 */
import { ConnectorError, parseDuration } from '../connector-sdk/index.ts';

/** How long a signal is waited for when the step does not say. */
export const DEFAULT_SIGNAL_TIMEOUT = '7d';

export interface DurableWait {
  until: Date;
  /** The step's output once the wait ends. */
  output: unknown;
}

/** The wait a step's rendered input asks for, or undefined when the step is no durable wait. */
export function durableWait(uses: string, input: unknown, now: Date): DurableWait | undefined {
  const fields = (input ?? {}) as { duration?: unknown; until?: unknown };
  if (uses === 'core.sleep' && typeof fields.duration === 'string') {
    const ms = parseDuration(fields.duration);
    return { until: new Date(now.getTime() + ms), output: { sleptMs: ms } };
  }
  if (uses === 'core.waitForSignal') {
    const timeout =
      typeof (input as { timeout?: unknown })?.timeout === 'string'
        ? String((input as { timeout: string }).timeout)
        : DEFAULT_SIGNAL_TIMEOUT;
    return { until: new Date(now.getTime() + parseDuration(timeout)), output: null };
  }
  if (uses === 'core.waitUntil') {
    const until = new Date(String(fields.until));
    if (typeof fields.until !== 'string' || Number.isNaN(until.getTime())) {
      throw ConnectorError.fatal(
        'invalid_input',
        `core.waitUntil needs a time like 2026-12-01T09:00:00Z, not ${JSON.stringify(fields.until)}`,
      );
    }
    return { until, output: { until: until.toISOString() } };
  }
  return undefined;
}
