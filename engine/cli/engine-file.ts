/**
 * A running `atlas serve` says where its API listens in ATLAS_HOME/.engine.json, so that
 * commands run beside it (`atlas run`) act through it instead of building the engine
 * themselves. The name is hidden because a home may also be the manifests folder, whose
 * loader skips dotfiles. The file names the engine's database by a digest of its URL: a command
 * configured for another database, or one that names it otherwise, does not use it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { isAlive } from '../db/embedded.ts';

const FILE = '.engine.json';

export interface EngineFile {
  pid: number;
  /** The API's base URL, on loopback when the engine listens on every interface. */
  url: string;
  database: string;
  /** The engine runs a worker serving runs: a run started through it makes progress. */
  runs: boolean;
}

function databaseOf(config: Config): string {
  const name = config.databaseUrl ?? `embedded:${path.resolve(config.home)}`;
  return createHash('sha256').update(name).digest('hex');
}

/** Writes the file; the function returned removes it unless another engine has replaced it since. */
export async function advertiseEngine(
  config: Config,
  url: string,
  runs: boolean,
): Promise<() => Promise<void>> {
  const file = path.join(config.home, FILE);
  const api = new URL(url);
  if (api.hostname === '0.0.0.0') api.hostname = '127.0.0.1';
  if (api.hostname === '[::]') api.hostname = '[::1]';
  const content: EngineFile = { pid: process.pid, url: api.origin, database: databaseOf(config), runs };
  await fs.mkdir(config.home, { recursive: true });
  await fs.writeFile(file, JSON.stringify(content), { mode: 0o600 });
  return async () => {
    if ((await read(file))?.pid === process.pid) await fs.rm(file, { force: true });
  };
}

/** The engine serving this configuration's database, when one is running. */
export async function runningEngine(config: Config): Promise<EngineFile | undefined> {
  const found = await read(path.join(config.home, FILE));
  if (!found || found.database !== databaseOf(config) || !isAlive(found.pid)) return undefined;
  return found;
}

async function read(file: string): Promise<EngineFile | undefined> {
  try {
    const content = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<EngineFile>;
    const valid =
      Number.isInteger(content.pid) &&
      typeof content.url === 'string' &&
      typeof content.database === 'string';
    return valid ? { ...(content as EngineFile), runs: content.runs === true } : undefined;
  } catch {
    return undefined;
  }
}
