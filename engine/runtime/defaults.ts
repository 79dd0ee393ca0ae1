/**
 * Default-on workflows (`enabled: default`): schedules, webhooks and events start them for
 * every active tenant that has no `tenant_workflows` row saying otherwise. Such a tenant chose
 * nothing, so before a run is created the gate checks that it has what the workflow needs
 * (engine/manifest/requirements.ts): tenant secrets, connector credentials (its own, or the
 * platform's where the operator offers that connector, as `ATLAS_PLATFORM_CREDENTIALS` says),
 * connected integrations, and the required config fields. A tenant that lacks any of them is
 * skipped, and the reason is kept in `workflow_skips` (one row per tenant and workflow, the
 * latest reason and a count), which `GET /v1/workflows` shows.
 */
import type { Knex } from 'knex';
import type { ConnectorConfig, ConnectorDefinition, ConnectorRegistry } from '../connector-sdk/index.ts';
import { tenantsWithoutChoice } from '../db/tenant-workflows.ts';
import { type Holdings, type LastSkip, loadHoldings, recordSkips, type Skip } from '../db/workflow-skips.ts';
import type { Catalogue, CatalogueEntry } from '../manifest/catalogue.ts';
import { type Requirements, workflowRequirements } from '../manifest/requirements.ts';
import type { Workflow } from '../manifest/types.gen.ts';

export const isDefaultOn = (workflow: Workflow): boolean => workflow.enabled === 'default';

export type { Holdings, LastSkip, Skip };
export { loadHoldings, recordSkips };

export interface GateDeps {
  catalogue: Catalogue;
  connectors: ConnectorRegistry;
  connectorConfig(connector: ConnectorDefinition): ConnectorConfig;
}

export class DefaultGate {
  readonly #deps: GateDeps;
  readonly #cache = new Map<string, Requirements>();

  constructor(deps: GateDeps) {
    this.#deps = deps;
  }

  requirements(entry: CatalogueEntry<Workflow>): Requirements {
    let found = this.#cache.get(entry.hash);
    if (!found) {
      found = workflowRequirements(entry.manifest, this.#deps.connectors, this.#deps.catalogue);
      this.#cache.set(entry.hash, found);
    }
    return found;
  }

  /** Why this tenant cannot run the workflow, or undefined when it has everything. */
  missing(
    entry: CatalogueEntry<Workflow>,
    held: Holdings,
    config: Record<string, unknown> = {},
  ): string | undefined {
    const r = this.requirements(entry);
    const gaps: string[] = [];
    const secrets = r.secrets.filter((s) => !held.secrets.has(s) && !this.#offered(r, s));
    if (secrets.length > 0) gaps.push(`tenant secret ${secrets.join(', ')} is not set`);
    for (const need of r.credentials) {
      if (need.anyOf.some((n) => held.secrets.has(n) || r.secrets.includes(n))) continue;
      if (this.#connectorOffered(need.connector, need.anyOf)) continue;
      gaps.push(
        need.anyOf.length === 0
          ? `the platform's ${need.connector} credentials are not offered to tenants`
          : `${need.connector} needs the tenant secret ${need.anyOf.join(' or ')}`,
      );
    }
    const integrations = r.integrations.filter((p) => !held.integrations.has(p));
    if (integrations.length > 0) gaps.push(`integration ${integrations.join(', ')} is not connected`);
    const config_ = r.config.filter((f) => config[f] === undefined);
    if (config_.length > 0) gaps.push(`config ${config_.join(', ')} is not set`);
    return gaps.length === 0 ? undefined : gaps.join('; ');
  }

  /** A tenant secret name that the platform's key of a connector the step calls can stand in for. */
  #offered(r: Requirements, name: string): boolean {
    return r.credentials.some((c) => c.anyOf.includes(name) && this.#connectorOffered(c.connector, [name]));
  }

  #connectorOffered(connectorId: string, names: string[]): boolean {
    const connector = this.#deps.connectors.connector(connectorId);
    if (!connector) return false;
    const { settings } = this.#deps.connectorConfig(connector);
    const auth = connector.auth;
    if (auth.type === 'env') return auth.variables.every((v) => !!settings[v]);
    if (auth.type !== 'secret') return false;
    return names.some((n) => {
      const env = auth.envFallback?.[n];
      return env !== undefined && !!settings[env];
    });
  }
}

/**
 * For a default-on workflow: the active tenants without a row that turns it off, split into
 * those that run (with their config) and those skipped for a missing requirement.
 */
export async function defaultTenants(
  trx: Knex.Transaction,
  gate: DefaultGate,
  entry: CatalogueEntry<Workflow>,
): Promise<{ run: string[]; skipped: Array<{ tenantId: string; reason: string }> }> {
  const ids = await tenantsWithoutChoice(trx, entry.manifest.id);
  const held = await loadHoldings(trx, ids);
  const run: string[] = [];
  const skipped: Array<{ tenantId: string; reason: string }> = [];
  for (const id of ids) {
    const reason = gate.missing(entry, held.get(id) ?? { secrets: new Set(), integrations: new Set() });
    if (reason === undefined) run.push(id);
    else skipped.push({ tenantId: id, reason });
  }
  return { run, skipped };
}
