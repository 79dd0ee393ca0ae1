/**
 * One log line per step attempt that ended: `step:succeeded` (debug), `step:retrying` or
 * `step:failed` (warn), naming tenant, run, step, connector, attempt x/y and duration.
 */
import type { RunRow } from '../db/runs.ts';
import type { Logger } from '../log.ts';
import type { Step } from '../manifest/types.gen.ts';
import type { FailureRecord } from './retry.ts';

export function logStep(
  log: Logger,
  run: RunRow,
  step: Step,
  attempt: string,
  durationMs: number,
  failure?: FailureRecord,
  retryAt?: Date,
): void {
  const fields = {
    tenant: run.tenant_id,
    run: run.id,
    step: step.id,
    connector: step.uses.split('.')[0],
    attempt,
    durationMs,
  };
  if (!failure) log.debug(fields, 'step:succeeded');
  else
    log.warn(
      { ...fields, code: failure.code, retryAt },
      retryAt ? `step:retrying ${failure.message}` : `step:failed ${failure.message}`,
    );
}
