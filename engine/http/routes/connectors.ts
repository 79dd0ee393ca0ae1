/** Connectors: the built-in and plugin connectors this engine runs, with their actions. */
import type { ActionDefinition, ConnectorDefinition, ConnectorRegistry } from '../../connector-sdk/index.ts';
import type { PluginInfo } from '../../plugins/types.ts';
import { problem } from '../../problem.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { objectOf } from '../schemas.ts';

const actionSchema = objectOf(['id', 'uses', 'description'], {
  id: { type: 'string' },
  uses: { type: 'string', description: 'What a step’s `uses` names: `<connector>.<action>`.' },
  description: { type: 'string' },
  jobType: { type: 'string', description: 'The typed job it serves (`EMAIL_SEND`, ...).' },
  readOnly: { type: 'boolean' },
});

const connectorSchema = objectOf(['id', 'description', 'auth', 'origin', 'actions'], {
  id: { type: 'string' },
  description: { type: 'string' },
  auth: { type: 'object', description: 'How it authenticates: `none`, `env`, `secret` or `oauth`.' },
  origin: {
    type: 'object',
    required: ['type'],
    description: '`builtin`, or `plugin` with the ATLAS_CONNECTORS entry and package it came from.',
    properties: {
      type: { enum: ['builtin', 'plugin'] },
      source: { type: 'string' },
      package: { type: 'object' },
      sdkVersion: { type: 'string' },
    },
  },
  actions: { type: 'array', items: actionSchema },
});

const detailSchema: JsonSchema = {
  ...connectorSchema,
  properties: {
    ...(connectorSchema.properties as Record<string, JsonSchema>),
    actions: {
      type: 'array',
      items: {
        ...actionSchema,
        required: [...(actionSchema.required as string[]), 'input', 'output'],
        properties: {
          ...(actionSchema.properties as Record<string, JsonSchema>),
          input: { type: 'object' },
          output: { type: 'object' },
        },
      },
    },
  },
};

function describeAction(connector: ConnectorDefinition, action: ActionDefinition, schemas: boolean) {
  return {
    id: action.id,
    uses: `${connector.id}.${action.id}`,
    description: action.description,
    ...(action.jobType === undefined ? {} : { jobType: action.jobType }),
    ...(action.readOnly === undefined ? {} : { readOnly: action.readOnly }),
    ...(schemas ? { input: action.input, output: action.output } : {}),
  };
}

/** Only the kind of credential and its names: which secret or provider, never a value. */
function describeAuth(auth: ConnectorDefinition['auth']) {
  if (auth.type === 'oauth') return { type: auth.type, provider: auth.provider };
  if (auth.type === 'secret') return { type: auth.type, secrets: auth.secrets };
  return { type: auth.type };
}

export function connectorRoutes(registry: ConnectorRegistry, plugins: readonly PluginInfo[]): AnyRoute[] {
  const origins = new Map(plugins.map((p) => [p.id, p]));
  const describe = (connector: ConnectorDefinition, schemas: boolean) => {
    const plugin = origins.get(connector.id);
    return {
      id: connector.id,
      description: connector.description,
      auth: describeAuth(connector.auth),
      origin: plugin
        ? {
            type: 'plugin',
            source: plugin.source,
            sdkVersion: plugin.sdkVersion,
            ...(plugin.package ? { package: plugin.package } : {}),
          }
        : { type: 'builtin' },
      actions: connector.actions.map((a) => describeAction(connector, a, schemas)),
    };
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/connectors',
      operationId: 'listConnectors',
      summary: 'List the connectors and their actions',
      description: 'Built-in connectors and those loaded from `ATLAS_CONNECTORS`, by id.',
      tag: 'connectors',
      scope: 'tenant',
      responses: {
        200: {
          description: 'Every connector.',
          schema: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: connectorSchema } },
          },
        },
      },
      handler(ctx) {
        const list = [...registry.connectors()].sort((a, b) => a.id.localeCompare(b.id));
        ctx.body = { items: list.map((c) => describe(c, false)) };
      },
    }),
    defineRoute<{ id: string }>({
      method: 'GET',
      path: '/v1/connectors/{id}',
      operationId: 'getConnector',
      summary: 'Get a connector with the input and output schemas of its actions',
      tag: 'connectors',
      scope: 'tenant',
      params: {
        type: 'object',
        required: ['id'],
        additionalProperties: false,
        properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' } },
      },
      errors: [404],
      responses: { 200: { description: 'The connector.', schema: detailSchema } },
      handler(ctx, { params }) {
        const connector = registry.connector(params.id);
        if (!connector) throw problem.notFound(`There is no connector "${params.id}".`);
        ctx.body = describe(connector, true);
      },
    }),
  ];
}
