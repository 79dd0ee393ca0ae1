// The console's workflow source page: a workflow's manifest file as written.
import fs from 'node:fs/promises';
import { problem } from '../../problem.ts';
import { defineRoute } from '../route.ts';
import type { RouteDeps } from './deps.ts';
import { MANIFEST_ID_PATTERN } from './workflows.ts';

export function workflowSourceRoute({ catalogue }: RouteDeps) {
  return defineRoute<{ id: string }>({
    method: 'GET',
    path: '/v1/workflows/{id}/source',
    operationId: 'getWorkflowSource',
    summary: "A workflow's manifest file as written (YAML or JSON)",
    tag: 'workflows',
    scope: 'tenant',
    params: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', pattern: MANIFEST_ID_PATTERN } },
    },
    responses: {
      200: {
        description: 'The file, as text; `atlas-manifest-file` names it.',
        contentType: 'text/plain',
        schema: { type: 'string' },
      },
    },
    async handler(ctx, { params }) {
      const entry = catalogue.workflow(params.id);
      if (!entry) throw problem.notFound(`There is no workflow "${params.id}".`);
      const text = await fs.readFile(entry.file, 'utf8').catch(() => undefined);
      if (text === undefined) throw problem.notFound(`The manifest file of ${params.id} is not readable.`);
      ctx.type = 'text/plain; charset=utf-8';
      ctx.set('atlas-manifest-file', encodeURIComponent(entry.file.split('/').slice(-2).join('/')));
      ctx.body = text;
    },
  });
}
