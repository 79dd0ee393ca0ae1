import { problem } from '../problem.ts';

/**
 * A `date-time` query value as a Date. The schema's format check accepts a few strings Date
 * cannot represent (a leap second, years beyond its range): those are the client's mistake.
 */
export function queryDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) {
    throw problem.badRequest(`The query parameter "${name}" is not a usable date-time.`);
  }
  return date;
}
