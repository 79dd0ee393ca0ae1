/**
 * Loads the connector plugins named in ATLAS_CONNECTORS: npm package names (resolved from the
 * working directory, then from Atlas's own install) or paths (a module file, or a package
 * directory). Each module exports a connector definition; it is checked as strictly as a
 * built-in (ids, schemas, duplicate actions, job types, the SDK range it accepts) and any
 * fault refuses the start with one sentence naming the plugin.
 *
 * A plugin is code the operator installs, run in the engine's process: this is a boundary of
 * interfaces, not a sandbox. Its actions get only the ActionContext, whose network door is the
 * hub (SSRF guard, audit, rate limits, timeouts), and the package exports nothing of the engine
 * but `atlas-engine/sdk` and `atlas-engine/sdk/testing`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConnectorDefinition } from '../connector-sdk/index.ts';
import { AtlasError } from '../errors.ts';
import type { PluginInfo } from './types.ts';

/** A plugin Atlas refuses to start with; the message names the plugin and the reason. */
export class PluginError extends AtlasError {
  constructor(
    readonly source: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super('plugin_refused', `connector plugin "${source}" ${reason}`, options);
  }
}

export interface LoadOptions {
  /** The connectors already registered (built-ins): a plugin may not reuse their ids. */
  builtins: readonly ConnectorDefinition[];
  /** Where relative paths and package names are resolved from. */
  cwd: string;
  /** The longest a plugin module may take to load (30 s). */
  timeoutMs?: number;
}

export interface LoadedPlugins {
  connectors: ConnectorDefinition[];
  plugins: PluginInfo[];
}

export const PLUGIN_LOAD_TIMEOUT_MS = 30_000;

export async function loadPlugins(sources: readonly string[], opts: LoadOptions): Promise<LoadedPlugins> {
  const connectors: ConnectorDefinition[] = [];
  const plugins: PluginInfo[] = [];
  if (sources.length === 0) return { connectors, plugins };
  // Loaded only when there are plugins: most starts have none and pay nothing for them.
  const { checkPluginConnector } = await import('./check.ts');
  const { resolve: resolveSpecifier } = await import('import-meta-resolve');
  const builtinIds = new Set(opts.builtins.map((c) => c.id));
  const jobTypes = new Map<string, string>();
  for (const c of opts.builtins)
    for (const a of c.actions) if (a.jobType) jobTypes.set(a.jobType, `${c.id}.${a.id}`);
  for (const source of sources) {
    const file = resolvePlugin(source, opts.cwd, resolveSpecifier);
    const module = await importWithin(source, file, opts.timeoutMs ?? PLUGIN_LOAD_TIMEOUT_MS);
    const connector = connectorOf(source, module);
    const problem = checkPluginConnector(connector);
    if (problem) throw new PluginError(source, problem);
    if (builtinIds.has(connector.id))
      throw new PluginError(
        source,
        `declares the connector id "${connector.id}", which a built-in connector has`,
      );
    const clash = plugins.find((p) => p.id === connector.id);
    if (clash)
      throw new PluginError(
        source,
        `declares the connector id "${connector.id}", which plugin "${clash.source}" already declared`,
      );
    for (const action of connector.actions) {
      if (!action.jobType) continue;
      const served = jobTypes.get(action.jobType);
      if (served)
        throw new PluginError(
          source,
          `declares ${connector.id}.${action.id} for job type ${action.jobType}, which ${served} already serves`,
        );
      jobTypes.set(action.jobType, `${connector.id}.${action.id}`);
    }
    const pkg = packageOf(file);
    connectors.push(connector);
    plugins.push({
      id: connector.id,
      source,
      file,
      ...(pkg ? { package: pkg } : {}),
      sdkVersion: connector.sdkVersion as string,
    });
  }
  return { connectors, plugins };
}

const isPath = (source: string) => source.startsWith('.') || path.isAbsolute(source);

/** The module file a plugin entry names. */
function resolvePlugin(
  source: string,
  cwd: string,
  resolveSpecifier: (specifier: string, parent: string) => string,
): string {
  if (isPath(source)) {
    const full = path.resolve(cwd, source);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) throw new PluginError(source, `was not found: ${full} does not exist`);
    return stat.isDirectory() ? packageEntry(source, full) : full;
  }
  const parents = [pathToFileURL(path.join(cwd, 'package.json')).href, import.meta.url];
  for (const parent of parents) {
    try {
      return fileURLToPath(resolveSpecifier(source, parent));
    } catch {
      // Not installed there; try the next place.
    }
  }
  throw new PluginError(
    source,
    `was not found: install it (npm install ${source}) where Atlas runs, or give its path`,
  );
}

/** The entry module of a package directory: `exports` (import or default), `main`, or index.*. */
function packageEntry(source: string, dir: string): string {
  const manifest = path.join(dir, 'package.json');
  const pkg = existsSync(manifest) ? (readJson(source, manifest) as Record<string, unknown>) : {};
  const entry = exportsEntry(pkg['exports']) ?? (typeof pkg['main'] === 'string' ? pkg['main'] : undefined);
  const candidates = entry ? [entry] : ['index.js', 'index.mjs', 'index.ts'];
  for (const candidate of candidates) {
    const file = path.resolve(dir, candidate);
    if (existsSync(file)) return file;
  }
  throw new PluginError(source, `has no entry module: set "exports" or "main" in ${manifest}`);
}

function exportsEntry(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const map = value as Record<string, unknown>;
  if ('.' in map) return exportsEntry(map['.']);
  for (const condition of ['import', 'node', 'default'])
    if (condition in map) {
      const found = exportsEntry(map[condition]);
      if (found) return found;
    }
  return undefined;
}

function readJson(source: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PluginError(source, `has an unreadable ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The name and version of the package a plugin file belongs to. */
function packageOf(file: string): { name: string; version: string } | undefined {
  let dir = path.dirname(file);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof pkg.name === 'string')
          return { name: pkg.name, version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' };
      } catch {
        return undefined;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Imports the module, giving up after `timeoutMs` (a module stuck in a top-level await would
 * otherwise hold the start forever). TypeScript plugins load through tsx when the process has
 * no loader for them yet (the compiled CLI).
 */
async function importWithin(
  source: string,
  file: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PluginError(source, `did not finish loading within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([importModule(file), timeout]);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw new PluginError(source, `failed to load: ${describe(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[mc]?ts$/.test(file))
      throw err;
    const { register } = await import('tsx/esm/api');
    register();
    // Node keeps the failed load under its URL: load it again under another one.
    return (await import(`${url}?atlas-tsx`)) as Record<string, unknown>;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`;
  return String(err);
}

/** The module's connector: its default export, or its one exported connector definition. */
function connectorOf(source: string, module: Record<string, unknown>): ConnectorDefinition {
  const looksLike = (v: unknown) =>
    v !== null && typeof v === 'object' && 'id' in v && 'actions' in v && Array.isArray(v.actions);
  if (looksLike(module['default'])) return module['default'] as ConnectorDefinition;
  const named = Object.entries(module).filter(([name, v]) => name !== 'default' && looksLike(v));
  if (named.length === 1) return named[0]![1] as ConnectorDefinition;
  if (named.length > 1)
    throw new PluginError(
      source,
      `exports ${named.length} connector definitions (${named.map(([n]) => n).join(', ')}): export one, as default`,
    );
  throw new PluginError(
    source,
    'exports no connector definition: export default defineConnector({ ... }) from its entry module',
  );
}
