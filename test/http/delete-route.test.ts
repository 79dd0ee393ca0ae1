/**
 * An audited DELETE names the entity it deletes, and audits, by its path's one parameter: a
 * path with none or several is refused when the route is defined, not at the first request.
 */
import { describe, expect, it } from 'vitest';
import { defineDeleteRoute } from '../../engine/http/delete-route.ts';
import { uuidParams } from '../../engine/http/schemas.ts';
import { useTestDatabase } from '../helpers/db.ts';

const t = useTestDatabase();

const spec = (path: string) => ({
  db: t.db,
  path,
  operationId: 'deleteThing',
  summary: 'Delete a thing',
  tag: 'things',
  params: uuidParams,
  audit: { action: 'things.delete', entityType: 'thing' },
  remove: async () => true,
  notFound: (id: string) => `There is no thing ${id}.`,
});

describe('defineDeleteRoute', () => {
  it('takes the entity from the one path parameter', () => {
    expect(defineDeleteRoute(spec('/v1/things/{id}')).path).toBe('/v1/things/{id}');
  });

  it('refuses a path that names no entity, or more than one', () => {
    expect(() => defineDeleteRoute(spec('/v1/things'))).toThrow(
      '/v1/things: an audited DELETE names its entity by exactly one path parameter',
    );
    expect(() => defineDeleteRoute(spec('/v1/things/{id}/parts/{part}'))).toThrow(
      /exactly one path parameter/,
    );
  });
});
