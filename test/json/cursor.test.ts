import { describe, expect, it } from 'vitest';
import { CursorError, decodeCursor, encodeCursor } from '../../engine/json/cursor.ts';

describe('pagination cursors', () => {
  it('round-trips every kind of position in one format', () => {
    expect(decodeCursor(encodeCursor('acme'), 'string')).toBe('acme');
    expect(decodeCursor(encodeCursor(42), 'number')).toBe(42);
    const pair = ['2026-01-01T00:00:00.000Z', '0b7f3c52-8f8e-4b43-9d1f-3c0b8f7e2a10'] as const;
    expect(decodeCursor(encodeCursor(pair), 'pair')).toEqual(pair);
    expect(decodeCursor(undefined, 'pair')).toBeUndefined();
  });

  it.each([
    ['not base64url JSON', '%%%', 'string'],
    ['another kind', encodeCursor(7), 'string'],
    ['a negative sequence', encodeCursor(-1), 'number'],
    ['a pair of three', Buffer.from('{"p":["a","b","c"]}').toString('base64url'), 'pair'],
    ['an empty id', encodeCursor(''), 'string'],
  ] as const)('refuses %s with a 400-class error', (_name, cursor, kind) => {
    const err = (() => {
      try {
        decodeCursor(cursor, kind);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CursorError);
    expect(err).toMatchObject({
      status: 400,
      expose: true,
      message: 'The cursor is not one this API issued.',
    });
  });
});
