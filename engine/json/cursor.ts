/**
 * Opaque pagination cursors, one format for every list: the keyset position of the last item
 * of a page as base64url JSON `{ "p": position }`, where the position is an id, a sequence
 * number or a `[createdAt, id]` pair. Opaque so clients do not build them; checked on the way
 * in so a forged one is a {@link CursorError} (a 400 on the API), not a database error.
 */

export type CursorPosition = string | number | readonly [string, string];

export type CursorKind = 'string' | 'number' | 'pair';

type PositionOf<K extends CursorKind> = K extends 'string'
  ? string
  : K extends 'number'
    ? number
    : [string, string];

/** A cursor this API did not issue. Carries a 4xx status and a safe message, as Koa's errors do. */
export class CursorError extends Error {
  readonly status = 400;
  readonly expose = true;

  constructor() {
    super('The cursor is not one this API issued.');
    this.name = 'CursorError';
  }
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

const VALID: Record<CursorKind, (p: unknown) => boolean> = {
  string: (p) => typeof p === 'string' && p.length > 0 && p.length <= 256,
  number: (p) => typeof p === 'number' && Number.isSafeInteger(p) && p > 0,
  pair: (p) => Array.isArray(p) && p.length === 2 && p.every((v) => VALID.string(v)),
};

/** The position in a cursor of `kind`; undefined without a cursor; a {@link CursorError} when forged. */
export function decodeCursor<K extends CursorKind>(
  cursor: string | undefined,
  kind: K,
): PositionOf<K> | undefined {
  if (cursor === undefined) return undefined;
  let position: unknown;
  try {
    position = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown }).p;
  } catch {
    position = undefined;
  }
  if (!VALID[kind](position)) throw new CursorError();
  return position as PositionOf<K>;
}
