// What the file routes share: the file, usage and limits schemas, URL lifetimes, and errors as problems.

import { FileNotFoundError, FileTooLargeError, QuotaExceededError } from '../../files/errors.ts';
import { FileInputError } from '../../files/names.ts';
import { MAX_URL_TTL_SECONDS } from '../../files/records.ts';
import { ObjectMissingError, StorageUnavailableError } from '../../files/storage.ts';
import { HttpProblem, problem } from '../../problem.ts';
import type { JsonSchema } from '../route.ts';

export const fileSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'contentType', 'size', 'sha256', 'createdBy', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string', description: 'The label given at upload (no path).' },
    contentType: { type: 'string', description: 'Checked against the bytes at upload.' },
    size: { type: 'integer', description: 'Bytes.' },
    sha256: { type: 'string', description: 'Hex digest of the bytes.' },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export const usageSchema: JsonSchema = {
  type: 'object',
  required: ['files', 'bytes'],
  properties: { files: { type: 'integer' }, bytes: { type: 'integer' } },
};

export const limitsSchema: JsonSchema = {
  type: 'object',
  required: ['maxFiles', 'maxStorageBytes', 'maxFileBytes'],
  properties: {
    maxFiles: { type: 'integer' },
    maxStorageBytes: { type: 'integer' },
    maxFileBytes: { type: 'integer' },
  },
};

export const TTL = '^(\\d{1,7})(s|m|h|d)?$';
const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `900`, `15m`, `2h`, `7d` as seconds; 400 beyond 7 days. */
export function parseTtl(raw: string | undefined): number {
  if (raw === undefined) return 900;
  const match = new RegExp(TTL).exec(raw);
  const seconds = match ? Number(match[1]) * TTL_UNITS[match[2] ?? 's']! : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_URL_TTL_SECONDS)) {
    throw problem.badRequest(`ttl must be from 1s to 7d (got "${raw}").`);
  }
  return seconds;
}

/** The service's errors as problems; anything else goes on to the 500 handler. */
export function fileProblem(err: unknown): unknown {
  if (err instanceof FileInputError) {
    const title = { 400: 'Bad Request', 413: 'Content Too Large', 415: 'Unsupported Media Type' }[err.status];
    return new HttpProblem({ status: err.status, title, detail: err.message });
  }
  if (err instanceof FileTooLargeError) {
    return new HttpProblem({
      status: 413,
      title: 'Content Too Large',
      detail: err.message,
      extra: { reason: 'file_too_large', maxFileBytes: err.limitBytes },
    });
  }
  if (err instanceof QuotaExceededError) {
    return new HttpProblem({
      status: 409,
      title: 'Conflict',
      detail: err.message,
      extra: { reason: 'quota_exceeded', usage: err.usage, limits: err.limits },
    });
  }
  if (err instanceof FileNotFoundError || err instanceof ObjectMissingError)
    return problem.notFound(err.message);
  if (err instanceof StorageUnavailableError) {
    return new HttpProblem({
      status: 503,
      title: 'Service Unavailable',
      detail: 'File storage is unavailable; try again shortly.',
      headers: { 'retry-after': '5' },
    });
  }
  return err;
}

/** Runs a service call, its errors as problems. */
export async function mapped<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw fileProblem(err);
  }
}
