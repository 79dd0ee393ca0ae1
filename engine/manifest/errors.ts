// Manifest errors: one plain sentence each, with the exact place in the file.

/**
 * One problem in a manifest. `keyword` is the Ajv keyword for structural errors
 * (`required`, `type`, `additionalProperties`, ...) or the name of the cross-check:
 * `yaml` (syntax), `unreadable`, `not-a-manifest`, `duplicate-id`, `duplicate-step`,
 * `duplicate-path`, `unknown-action`, `input` (a `with` value does not fit the action),
 * `needs`, `template`, `logic`, `cron`, `duration`, `reference` (an unknown route,
 * agent or workflow), `credential`, `input-schema`, `oauth`, `webhook`.
 */
export interface ManifestError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** `Workflow`, `WebhookRoute`, `OAuthProvider`, `Agent`, or null when unknown. */
  kind: string | null;
  id: string | null;
  message: string;
  keyword: string;
  /** `warning`: valid, but likely to fail at run time (a skippable step read without `??`). */
  severity?: 'error' | 'warning';
}

export function compareErrors(a: ManifestError, b: ManifestError): number {
  return (
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    a.message.localeCompare(b.message)
  );
}

/** `file:LINE:COL  Workflow WF-010: sentence`. */
export function formatError(error: ManifestError): string {
  const subject = [error.kind ?? 'manifest', error.id]
    .filter((part) => part !== null && part !== '')
    .join(' ');
  const mark = error.severity === 'warning' ? 'warning: ' : '';
  return `${error.file}:${error.line}:${error.column}  ${mark}${subject}: ${error.message}`;
}

/** The human report: one line per error, sorted by file and position. */
export function formatErrors(errors: readonly ManifestError[]): string {
  return [...errors].sort(compareErrors).map(formatError).join('\n');
}
