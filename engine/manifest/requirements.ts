/**
 * What a workflow needs from a tenant before it can run, read from the manifest alone: the
 * tenant secrets its templates name, the credentials of the connectors its steps (and its
 * agents' tools) call, the OAuth integrations those connectors use, and the required fields
 * of its `config` schema. The catalogue document, `GET /v1/workflows`, `atlas workflows list`
 * and the default-on gate (engine/runtime/defaults.ts) all read it from here.
 */
import { type ConnectorRegistry, splitUses } from '../connector-sdk/index.ts';
import { templateRefs } from '../expr/index.ts';
import type { Catalogue } from './catalogue.ts';
import type { Workflow } from './types.gen.ts';

/** The credentials of one connector: any one of `anyOf` (a tenant secret, or the platform's when offered). */
export interface CredentialNeed {
  connector: string;
  anyOf: string[];
  /** The tenant secret may be replaced by the platform's key of the same name, when the operator offers it. */
  platformFallback: boolean;
}

export interface Requirements {
  /** The connectors the steps call, sorted (agents' tools included). */
  connectors: string[];
  /** Tenant secrets read by name (`{{ secrets.NAME }}`, `secret: NAME`), sorted. */
  secrets: string[];
  credentials: CredentialNeed[];
  /** OAuthProvider ids the tenant must have connected, sorted. */
  integrations: string[];
  /** Required fields of the workflow's `config` schema, and `tenant.config.*` fields read without a fallback. */
  config: string[];
}

/** Social networks post with the token of these OAuthProvider manifests. */
const SOCIAL_PROVIDERS: Record<string, string> = {
  x: 'x',
  linkedin: 'linkedin',
  facebook: 'meta',
  instagram: 'meta',
  tiktok: 'tiktok',
};

function secretNames(value: unknown, into: Set<string>, config?: Set<string>): void {
  for (const ref of templateRefs(value)) {
    if (ref.hasFallback || typeof ref.path[1] !== 'string') continue;
    if (ref.path[0] === 'secrets') into.add(ref.path[1]);
    if (config && ref.path[0] === 'tenant' && ref.path[1] === 'config' && typeof ref.path[2] === 'string')
      config.add(ref.path[2]);
  }
}

function literal(value: unknown): string | undefined {
  return typeof value === 'string' && !value.includes('{{') ? value : undefined;
}

export function workflowRequirements(
  workflow: Workflow,
  registry: ConnectorRegistry,
  catalogue?: Catalogue,
): Requirements {
  const secrets = new Set<string>();
  const integrations = new Set<string>();
  const configRefs = new Set<string>();
  const uses: Array<{ uses: string; with: Record<string, unknown> }> = [];
  for (const step of workflow.steps) {
    const input = (step.with ?? {}) as Record<string, unknown>;
    uses.push({ uses: step.uses, with: input });
    secretNames(input, secrets, configRefs);
    const named = literal(input.secret);
    if (named !== undefined) secrets.add(named);
    if (step.uses === 'agent.run') {
      const agent = catalogue?.agent(literal(input.agent) ?? '')?.manifest;
      if (agent) {
        secretNames(agent, secrets);
        for (const tool of agent.tools ?? [])
          uses.push({ uses: typeof tool === 'string' ? tool : tool.use, with: {} });
      }
    }
  }
  const connectors = new Set<string>();
  const credentials = new Map<string, CredentialNeed>();
  for (const u of uses) {
    const id = splitUses(u.uses)?.connectorId;
    const connector = id === undefined ? undefined : registry.connector(id);
    if (!connector) continue;
    connectors.add(connector.id);
    const auth = connector.auth;
    if (auth.type === 'oauth') integrations.add(auth.provider);
    if (auth.type === 'secret' && !credentials.has(connector.id))
      credentials.set(connector.id, {
        connector: connector.id,
        anyOf: [...auth.secrets],
        platformFallback: Object.keys(auth.envFallback ?? {}).length > 0,
      });
    if (auth.type === 'env' && !credentials.has(connector.id))
      credentials.set(connector.id, { connector: connector.id, anyOf: [], platformFallback: true });
    if (connector.id === 'social') {
      const provider = SOCIAL_PROVIDERS[literal(u.with.network) ?? ''];
      if (provider) integrations.add(provider);
    }
  }
  const schema = workflow.config as { required?: unknown } | undefined;
  const config = [
    ...new Set([...(Array.isArray(schema?.required) ? schema.required.map(String) : []), ...configRefs]),
  ];
  return {
    connectors: [...connectors].sort(),
    secrets: [...secrets].sort(),
    credentials: [...credentials.values()].sort((a, b) => a.connector.localeCompare(b.connector)),
    integrations: [...integrations].sort(),
    config,
  };
}

/** One line: `secrets A, B; integration google; config chatId` (or `none`). */
export function describeRequirements(r: Requirements): string {
  const parts: string[] = [];
  const creds = r.credentials.filter(
    (c) => c.anyOf.length > 0 && !c.anyOf.some((n) => r.secrets.includes(n)),
  );
  const secretList = [
    ...r.secrets,
    ...creds.map((c) => (c.anyOf.length === 1 ? c.anyOf[0]! : c.anyOf.join(' or '))),
  ];
  if (secretList.length > 0) parts.push(`secrets ${secretList.join(', ')}`);
  const env = r.credentials.filter((c) => c.anyOf.length === 0).map((c) => c.connector);
  if (env.length > 0) parts.push(`platform ${env.join(', ')}`);
  if (r.integrations.length > 0) parts.push(`integrations ${r.integrations.join(', ')}`);
  if (r.config.length > 0) parts.push(`config ${r.config.join(', ')}`);
  return parts.length === 0 ? 'none' : parts.join('; ');
}
