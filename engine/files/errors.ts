// The file service's refusals: a missing file, a file over the size limit, a full quota.
import type { Limits, Usage } from './records.ts';

export class FileNotFoundError extends Error {
  override readonly name = 'FileNotFoundError';
}

/** One file larger than the tenant's largest file (413). */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`The file is larger than the limit of ${limitBytes} bytes.`);
  }
}

/** The upload would take the tenant over its file count or storage (409). */
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';
  constructor(
    readonly usage: Usage,
    readonly limits: Limits,
    readonly adding: number,
  ) {
    super(
      usage.files + 1 > limits.maxFiles
        ? `The tenant has ${usage.files} of ${limits.maxFiles} files.`
        : `The tenant uses ${usage.bytes} of ${limits.maxStorageBytes} bytes; this file needs ${adding} more.`,
    );
  }
}
