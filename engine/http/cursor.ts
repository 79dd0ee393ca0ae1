/**
 * Opaque pagination cursors: the keyset position of the last item of a page, as base64url
 * JSON. Opaque so clients do not build them; checked on the way in so a forged one is a 400,
 * not a database error.
 */
import { problem } from '../problem.ts';

export function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, kind: 'string'): string | undefined;
export function decodeCursor(cursor: string | undefined, kind: 'number'): number | undefined;
export function decodeCursor(
  cursor: string | undefined,
  kind: 'string' | 'number',
): string | number | undefined {
  if (cursor === undefined) return undefined;
  let position: unknown;
  try {
    position = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown }).p;
  } catch {
    position = undefined;
  }
  const valid =
    kind === 'number'
      ? typeof position === 'number' && Number.isSafeInteger(position) && position > 0
      : typeof position === 'string' && position.length > 0 && position.length <= 256;
  if (!valid) throw problem.badRequest('The cursor is not one this API issued.');
  return position as string | number;
}
