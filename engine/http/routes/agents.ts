/** Agents: the catalogue's agents, and tasks for them (`AGENT_TASK` jobs). */
import type { CatalogueEntry } from '../../manifest/catalogue.ts';
import type { Agent } from '../../manifest/types.gen.ts';
import { problem } from '../../problem.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { jobAccepted } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';
import { enqueueAndAnswer } from './jobs.ts';
import { MANIFEST_ID_PATTERN } from './workflows.ts';

const agentParams: JsonSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: MANIFEST_ID_PATTERN } },
};

const agentSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'hash', 'model', 'tools'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    hash: { type: 'string' },
    model: { type: 'object', description: 'Provider and model name.' },
    tools: { type: 'array', items: { type: 'string' }, description: 'Connector actions it may call.' },
  },
};

const agentDetailSchema: JsonSchema = {
  ...agentSchema,
  required: [...(agentSchema.required as string[]), 'manifest'],
  properties: { ...(agentSchema.properties as Record<string, JsonSchema>), manifest: { type: 'object' } },
};

interface AgentTask {
  task: string;
  context?: Record<string, unknown>;
}

function describe(entry: CatalogueEntry<Agent>) {
  const { manifest } = entry;
  return {
    id: manifest.id,
    ...(manifest.name === undefined ? {} : { name: manifest.name }),
    ...(manifest.description === undefined ? {} : { description: manifest.description }),
    hash: entry.hash,
    // The model's settings, without the name of the secret holding its key.
    model: { provider: manifest.model.provider, model: manifest.model.model },
    // The actions only; their limits (`maxCalls`, `constrain`) are in the manifest.
    tools: (manifest.tools ?? []).map((tool) => (typeof tool === 'string' ? tool : tool.use)),
  };
}

export function agentRoutes({ db, runtime, catalogue }: RouteDeps): AnyRoute[] {
  const find = (id: string) => {
    const entry = catalogue.agent(id);
    if (!entry) throw problem.notFound(`There is no agent "${id}".`);
    return entry;
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/agents',
      operationId: 'listAgents',
      summary: 'List the catalogue’s agents',
      tag: 'agents',
      scope: 'tenant',
      responses: {
        200: {
          description: 'Every agent, by id.',
          schema: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: agentSchema } },
          },
        },
      },
      handler(ctx) {
        ctx.body = { items: catalogue.agents().map(describe) };
      },
    }),
    defineRoute<{ id: string }>({
      method: 'GET',
      path: '/v1/agents/{id}',
      operationId: 'getAgent',
      summary: 'Get an agent',
      tag: 'agents',
      scope: 'tenant',
      params: agentParams,
      responses: { 200: { description: 'The agent.', schema: agentDetailSchema } },
      handler(ctx, { params }) {
        const entry = find(params.id);
        ctx.body = { ...describe(entry), manifest: entry.manifest };
      },
    }),
    defineRoute<{ id: string }, Record<string, never>, AgentTask>({
      method: 'POST',
      path: '/v1/agents/{id}/run',
      operationId: 'runAgent',
      summary: 'Give an agent a task (an AGENT_TASK job)',
      tag: 'agents',
      scope: 'tenant',
      params: agentParams,
      body: {
        type: 'object',
        required: ['task'],
        additionalProperties: false,
        properties: {
          task: { type: 'string', minLength: 1, maxLength: 20_000, description: 'What the agent should do.' },
          context: { type: 'object', description: 'Data the agent may use.' },
        },
      },
      errors: [422],
      audit: { action: 'agents.run', entityType: 'job' },
      responses: { 202: jobAccepted },
      async handler(ctx, { params, body }) {
        find(params.id);
        const payload = {
          agent: params.id,
          task: body.task,
          ...(body.context ? { context: body.context } : {}),
        };
        await enqueueAndAnswer(ctx, { db, runtime }, 'AGENT_TASK', payload);
      },
    }),
  ] as AnyRoute[];
}
