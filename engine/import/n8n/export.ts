// Reads n8n workflow exports: the JSON of n8n's "Download" (one workflow) and of
// `n8n export:workflow` (one workflow, or an array with --all), from 0.2xx to 2.x.
// Everything here is attacker-written: shapes are checked, never assumed.

export interface N8nNode {
  name: string;
  type: string;
  typeVersion: number;
  parameters: Record<string, unknown>;
  credentials: Record<string, { id?: string; name: string }>;
  disabled: boolean;
  webhookId?: string;
  position: [number, number];
}

export interface N8nConnection {
  node: string;
  type: string;
  index: number;
}

export interface N8nWorkflow {
  /** n8n's own id, when the export has one. */
  id?: string;
  name: string;
  nodes: N8nNode[];
  /** source node name → connection type (`main`, `ai_languageModel`...) → output index → targets. */
  connections: Map<string, Map<string, N8nConnection[][]>>;
  errorWorkflow?: string;
}

/** A workflow that cannot be read at all, with the reason in one sentence. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** The most nodes one workflow may have: an Atlas workflow holds at most 200 steps. */
export const MAX_NODES = 200;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The workflows of one parsed export file (an object, an array, or n8n's API `{ data: [...] }`). */
export function exportedWorkflows(json: unknown): unknown[] {
  if (Array.isArray(json)) return json;
  if (isObject(json) && !('nodes' in json) && Array.isArray(json['data'])) return json['data'];
  if (isObject(json) && 'nodes' in json) return [json];
  throw new ExportError(
    'this is not an n8n workflow export: expected an object with "nodes" and "connections", or an array of them',
  );
}

/** Checks one exported workflow; throws ExportError saying what is wrong. */
export function readWorkflow(raw: unknown, fallbackName: string): N8nWorkflow {
  if (!isObject(raw) || !Array.isArray(raw['nodes']) || !isObject(raw['connections'] ?? {})) {
    throw new ExportError(
      'not an n8n workflow: expected an object with a "nodes" array and a "connections" object',
    );
  }
  const rawNodes = raw['nodes'] as unknown[];
  if (rawNodes.length > MAX_NODES) {
    throw new ExportError(
      `it has ${rawNodes.length} nodes; an Atlas workflow holds at most ${MAX_NODES} steps, so split it into sub-workflows first`,
    );
  }
  const nodes: N8nNode[] = [];
  const names = new Set<string>();
  rawNodes.forEach((n, i) => {
    if (!isObject(n)) throw new ExportError(`node ${i + 1} is not an object`);
    const { name, type } = n;
    if (typeof name !== 'string' || name.length === 0 || name.length > 500)
      throw new ExportError(`node ${i + 1} has no name (or one over 500 characters)`);
    if (typeof type !== 'string' || !/^[@\w.-]+(\/[\w.-]+)?\.[\w-]+$/.test(type))
      throw new ExportError(`node "${name}" has no valid type`);
    if (names.has(name)) throw new ExportError(`two nodes are named "${name}"; n8n names are unique`);
    names.add(name);
    const version = n['typeVersion'] ?? 1;
    if (typeof version !== 'number' || !Number.isFinite(version) || version <= 0)
      throw new ExportError(`node "${name}" has an invalid typeVersion`);
    const parameters = n['parameters'] ?? {};
    if (!isObject(parameters)) throw new ExportError(`node "${name}" has parameters that are not an object`);
    const credentials: N8nNode['credentials'] = {};
    if (isObject(n['credentials'])) {
      for (const [kind, cred] of Object.entries(n['credentials'])) {
        if (isObject(cred) && typeof cred['name'] === 'string')
          credentials[kind] = {
            name: cred['name'],
            ...(typeof cred['id'] === 'string' ? { id: cred['id'] } : {}),
          };
        else if (typeof cred === 'string') credentials[kind] = { name: cred }; // n8n 0.2xx wrote the name alone
      }
    }
    const position = Array.isArray(n['position']) ? n['position'] : [];
    nodes.push({
      name,
      type,
      typeVersion: version,
      parameters,
      credentials,
      disabled: n['disabled'] === true,
      ...(typeof n['webhookId'] === 'string' ? { webhookId: n['webhookId'] } : {}),
      position: [Number(position[0]) || 0, Number(position[1]) || 0],
    });
  });
  const connections = new Map<string, Map<string, N8nConnection[][]>>();
  for (const [source, byType] of Object.entries((raw['connections'] ?? {}) as Record<string, unknown>)) {
    if (!names.has(source)) throw new ExportError(`a connection starts at "${source}", which is not a node`);
    if (!isObject(byType)) throw new ExportError(`the connections of "${source}" are not an object`);
    const types = new Map<string, N8nConnection[][]>();
    for (const [kind, outputs] of Object.entries(byType)) {
      if (!Array.isArray(outputs))
        throw new ExportError(`the ${kind} connections of "${source}" are not a list`);
      types.set(
        kind,
        outputs.map((targets) => {
          if (targets === null || targets === undefined) return [];
          if (!Array.isArray(targets))
            throw new ExportError(`the ${kind} connections of "${source}" are not lists`);
          return targets.map((t) => {
            if (!isObject(t) || typeof t['node'] !== 'string' || !names.has(t['node']))
              throw new ExportError(`a connection from "${source}" goes to a node that does not exist`);
            return { node: t['node'], type: String(t['type'] ?? kind), index: Number(t['index'] ?? 0) || 0 };
          });
        }),
      );
    }
    connections.set(source, types);
  }
  const settings = isObject(raw['settings']) ? raw['settings'] : {};
  const name = typeof raw['name'] === 'string' && raw['name'].trim() !== '' ? raw['name'] : fallbackName;
  const id = typeof raw['id'] === 'string' || typeof raw['id'] === 'number' ? String(raw['id']) : undefined;
  return {
    ...(id === undefined ? {} : { id }),
    name,
    nodes,
    connections,
    ...(typeof settings['errorWorkflow'] === 'string' ? { errorWorkflow: settings['errorWorkflow'] } : {}),
  };
}
