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
