import { AtlasError } from '../errors.ts';

/**
 * Errors the runtime reports to its callers (API, CLI, webhooks), by code; the HTTP layer
 * maps them to problem+json statuses.
 */
export type RuntimeErrorCode =
  | 'not_found'
  | 'invalid_input'
  | 'conflict'
  | 'unknown_workflow'
  | 'unknown_job_type'
  | 'tenant_disabled';

export class RuntimeError extends AtlasError {
  declare readonly code: RuntimeErrorCode;
  readonly details: unknown;

  constructor(code: RuntimeErrorCode, message: string, details?: unknown) {
    super(code, message);
    this.name = 'RuntimeError';
    this.details = details;
  }
}

/**
 * A checkpoint refused by fencing: another claim took the run since this worker's (it was cut
 * off from the database past its lease), so this worker lets the run go.
 */
export class LeaseLost extends RuntimeError {
  constructor(runId: string, epoch: number) {
    super(
      'conflict',
      `run ${runId} was claimed again after lease epoch ${epoch}; this worker's write was refused`,
    );
    this.name = 'LeaseLost';
  }
}

/**
 * The claim of a run taken without one was refused: it was cancelled, or another worker
 * claimed it, since this worker read it. Nothing of this worker's was written; it lets go.
 */
export class ClaimRefused extends RuntimeError {
  constructor(runId: string) {
    super('conflict', `run ${runId} was no longer free to claim; this worker's write was refused`);
    this.name = 'ClaimRefused';
  }
}
