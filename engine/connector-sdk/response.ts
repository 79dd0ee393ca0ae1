/**
 * Checks on provider answers. A provider (or something impersonating it) may answer 2xx with
 * a body of the wrong shape; connectors check the fields they use and fail with a clear
 * fatal `invalid_response` instead of a TypeError deep inside a step.
 */
import { ConnectorError } from './errors.ts';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value as an object, or an `invalid_response` error naming what was expected. */
export function expectRecord(value: unknown, what: string): JsonRecord {
  if (!isRecord(value)) throw ConnectorError.invalidResponse(`${what}: expected a JSON object`);
  return value;
}

export function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw ConnectorError.invalidResponse(`${what}: expected an array`);
  return value;
}

export function expectString(record: JsonRecord, key: string, what: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw ConnectorError.invalidResponse(`${what}: "${key}" must be a string`);
  return value;
}

export function expectNumber(record: JsonRecord, key: string, what: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw ConnectorError.invalidResponse(`${what}: "${key}" must be a number`);
  }
  return value;
}

export function optionalString(record: JsonRecord, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}
