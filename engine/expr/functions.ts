// The operations automations need that JSON Logic lacks: dates, strings, arrays and
// `default`. Each is pure: the same arguments give the same result, and `now` is the time
// the caller recorded for this evaluation (never the clock at the moment of evaluating).
//
// json-logic-js keeps operations in one table per process; these are added once, here, and
// `scanLogic` refuses any operator that is neither standard nor listed in ATLAS_OPERATORS.
import jsonLogic from 'json-logic-js';
import { DateTime, Duration } from 'luxon';
import { parseDuration } from '../connector-sdk/duration.ts';

export class LogicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogicError';
  }
}

/** The longest string or list an operation builds (a `split` or `join` cannot blow up memory). */
const MAX_LENGTH = 1_000_000;

let currentNow: string | undefined;

/** Runs `fn` with `now` answering `at`; evaluation is synchronous, so this cannot leak. */
export function withNow<T>(at: Date | string | undefined, fn: () => T): T {
  const previous = currentNow;
  currentNow = at === undefined ? undefined : toIso(at, 'now');
  try {
    return fn();
  } finally {
    currentNow = previous;
  }
}

function toIso(value: Date | string, op: string): string {
  // A Date's own ISO form is luxon's in UTC (the hot path: a webhook's receipt time).
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  const date =
    value instanceof Date ? DateTime.fromJSDate(value) : DateTime.fromISO(value, { setZone: true });
  if (!date.isValid) throw new LogicError(`${op}: "${String(value)}" is not an ISO 8601 date`);
  return date.toUTC().toISO()!;
}

function dateArg(value: unknown, op: string): DateTime {
  if (typeof value !== 'string' && !(value instanceof Date))
    throw new LogicError(`${op} needs an ISO 8601 date, got ${describe(value)}`);
  const date =
    value instanceof Date ? DateTime.fromJSDate(value) : DateTime.fromISO(value, { setZone: true });
  if (!date.isValid) throw new LogicError(`${op}: "${String(value)}" is not an ISO 8601 date`);
  return date;
}

function stringArg(value: unknown, op: string): string {
  if (typeof value !== 'string') throw new LogicError(`${op} needs a string, got ${describe(value)}`);
  return value;
}

function listArg(value: unknown, op: string): unknown[] {
  if (!Array.isArray(value)) throw new LogicError(`${op} needs a list, got ${describe(value)}`);
  return value;
}

function intArg(value: unknown, op: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new LogicError(`${op}: ${what} must be an integer, got ${describe(value)}`);
  return value;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `the ${typeof value} ${String(value)}`;
}

/** `3d`, `-90m`, `1h30m` (Atlas durations) or ISO 8601 (`P1M`, `-P1Y2M`), for calendar units. */
function durationArg(value: unknown, op: string): Duration {
  if (typeof value === 'number' && Number.isFinite(value)) return Duration.fromMillis(value);
  if (typeof value !== 'string')
    throw new LogicError(`${op} needs a duration such as "3d", "-2h" or "P1M", got ${describe(value)}`);
  const negative = value.startsWith('-');
  const text = negative ? value.slice(1) : value;
  let duration: Duration;
  if (text.startsWith('P')) {
    duration = Duration.fromISO(text);
    if (!duration.isValid) throw new LogicError(`${op}: "${value}" is not an ISO 8601 duration`);
  } else {
    try {
      duration = Duration.fromMillis(parseDuration(text));
    } catch {
      throw new LogicError(`${op}: "${value}" is not a duration such as "3d", "-2h", "1h30m" or "P1M"`);
    }
  }
  return negative ? duration.negate() : duration;
}

function scalarText(value: unknown, op: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object')
    throw new LogicError(`${op} joins strings and numbers, got ${describe(value)}`);
  return String(value);
}

function bounded<T extends string | unknown[]>(value: T, op: string): T {
  if (value.length > MAX_LENGTH)
    throw new LogicError(`${op} would build ${value.length} items or characters (at most ${MAX_LENGTH})`);
  return value;
}

/** Each Atlas operation, called with its evaluated arguments. */
const OPERATIONS: Record<string, (...args: unknown[]) => unknown> = {
  now(): string {
    if (currentNow === undefined) throw new LogicError('now is not available here');
    return currentNow;
  },
  date_add(date: unknown, duration: unknown): string {
    return dateArg(date, 'date_add').plus(durationArg(duration, 'date_add')).toUTC().toISO()!;
  },
  date_format(date: unknown, format: unknown, zone: unknown = 'UTC'): string {
    const pattern = stringArg(format, 'date_format');
    const tz = stringArg(zone, 'date_format');
    const zoned = dateArg(date, 'date_format').setZone(tz);
    if (!zoned.isValid)
      throw new LogicError(`date_format: "${tz}" is not a time zone such as "Europe/Paris"`);
    return zoned.setLocale('en-US').toFormat(pattern);
  },
  lower: (text: unknown) => stringArg(text, 'lower').toLowerCase(),
  upper: (text: unknown) => stringArg(text, 'upper').toUpperCase(),
  join(list: unknown, separator: unknown = ''): string {
    const sep = stringArg(separator, 'join');
    return bounded(
      listArg(list, 'join')
        .map((item) => scalarText(item, 'join'))
        .join(sep),
      'join',
    );
  },
  split(text: unknown, separator: unknown = ''): string[] {
    return bounded(stringArg(text, 'split').split(stringArg(separator, 'split')), 'split');
  },
  slice(value: unknown, start: unknown = 0, end?: unknown): unknown {
    const from = intArg(start, 'slice', 'start');
    const to = end === undefined || end === null ? undefined : intArg(end, 'slice', 'end');
    if (typeof value === 'string' || Array.isArray(value)) return value.slice(from, to);
    throw new LogicError(`slice needs a string or a list, got ${describe(value)}`);
  },
  length(value: unknown): number {
    if (typeof value === 'string' || Array.isArray(value)) return value.length;
    throw new LogicError(`length needs a string or a list, got ${describe(value)}`);
  },
  sum(list: unknown): number {
    return listArg(list, 'sum').reduce<number>((total, item) => {
      if (typeof item !== 'number') throw new LogicError(`sum adds numbers, got ${describe(item)}`);
      return total + item;
    }, 0);
  },
  default(...values: unknown[]): unknown {
    return values.find((v) => v !== null && v !== undefined) ?? null;
  },
};

/** Operators Atlas adds to JSON Logic, usable in `$expr` and in `if`. */
export const ATLAS_OPERATORS: ReadonlySet<string> = new Set(Object.keys(OPERATIONS));

for (const [name, fn] of Object.entries(OPERATIONS)) {
  jsonLogic.add_operation(name, (...args: unknown[]) => fn(...args));
}
