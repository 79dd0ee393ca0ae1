// The validated catalogue: immutable, each manifest with the hash of its content, so a
// run can pin the exact version it started with.
import { createHash } from 'node:crypto';
import type { ManifestKind } from './schemas.ts';
import type { Agent, OAuthProvider, WebhookRoute, Workflow } from './types.gen.ts';

export type Manifest = Workflow | WebhookRoute | OAuthProvider | Agent;

export interface CatalogueEntry<M extends Manifest = Manifest> {
  readonly manifest: M;
  /** sha256 (hex) of the manifest's canonical JSON: key order and formatting do not count. */
  readonly hash: string;
  /** The file it came from. */
  readonly file: string;
}

/** JSON with object keys sorted, so equal content always serialises the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function manifestHash(manifest: unknown): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

type ByKind = { Workflow: Workflow; WebhookRoute: WebhookRoute; OAuthProvider: OAuthProvider; Agent: Agent };

export class Catalogue {
  readonly #entries: Map<ManifestKind, Map<string, CatalogueEntry>>;
  /** sha256 over every entry's kind, id and hash: changes whenever any manifest changes. */
  readonly version: string;
  /** When it was loaded: a 404 for a manifest added since names it. */
  readonly loadedAt = new Date();

  constructor(entries: Iterable<CatalogueEntry>) {
    this.#entries = new Map();
    const version = createHash('sha256');
    const sorted = [...entries].sort((a, b) =>
      `${a.manifest.kind}/${a.manifest.id}`.localeCompare(`${b.manifest.kind}/${b.manifest.id}`),
    );
    for (const entry of sorted) {
      const { kind, id } = entry.manifest;
      const byId = this.#entries.get(kind) ?? new Map<string, CatalogueEntry>();
      this.#entries.set(kind, byId);
      if (byId.has(id)) throw new Error(`${kind} ${id} is in the catalogue twice`);
      byId.set(id, deepFreeze({ manifest: entry.manifest, hash: entry.hash, file: entry.file }));
      version.update(`${kind}/${id}@${entry.hash}\n`);
    }
    this.version = version.digest('hex');
    Object.freeze(this);
  }

  #list<K extends ManifestKind>(kind: K): readonly CatalogueEntry<ByKind[K]>[] {
    return [...(this.#entries.get(kind)?.values() ?? [])] as CatalogueEntry<ByKind[K]>[];
  }

  #get<K extends ManifestKind>(kind: K, id: string): CatalogueEntry<ByKind[K]> | undefined {
    return this.#entries.get(kind)?.get(id) as CatalogueEntry<ByKind[K]> | undefined;
  }

  /** Every entry, sorted by kind then id. */
  entries(): readonly CatalogueEntry[] {
    return [...this.#entries.values()].flatMap((byId) => [...byId.values()]);
  }

  get size(): number {
    return this.entries().length;
  }

  workflows() {
    return this.#list('Workflow');
  }
  workflow(id: string) {
    return this.#get('Workflow', id);
  }
  webhookRoutes() {
    return this.#list('WebhookRoute');
  }
  webhookRoute(id: string) {
    return this.#get('WebhookRoute', id);
  }
  oauthProviders() {
    return this.#list('OAuthProvider');
  }
  oauthProvider(id: string) {
    return this.#get('OAuthProvider', id);
  }
  agents() {
    return this.#list('Agent');
  }
  agent(id: string) {
    return this.#get('Agent', id);
  }
}

/**
 * A catalogue that can be replaced while the engine runs (`atlas serve --watch`, SIGHUP):
 * `catalogue` always answers from the newest valid one, so every part holding it sees the
 * change at once. Runs keep the version they pinned (see `manifest_versions`).
 */
export interface LiveCatalogue {
  readonly catalogue: Catalogue;
  current(): Catalogue;
  replace(next: Catalogue): void;
}

export function makeLiveCatalogue(initial: Catalogue): LiveCatalogue {
  let current = initial;
  // The target is a bare object of the class, not a catalogue: a Proxy must answer a frozen
  // target's own fields as they are, and these change on every replace.
  const catalogue = new Proxy(Object.create(Catalogue.prototype) as Catalogue, {
    get(_target, prop) {
      const value = Reflect.get(current, prop, current) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
  return {
    catalogue,
    current: () => current,
    replace(next) {
      current = next;
    },
  };
}
