import { loadConfig } from '../../engine/config.ts';
import { startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import type { Runtime } from '../../engine/runtime/index.ts';
import type { TestDatabase } from './db.ts';

/** A runtime (no worker) over a catalogue directory, to trigger and read runs. */
export async function makeRuntimeForTest(
  database: TestDatabase,
  manifests: string,
  env: Record<string, string> = {},
): Promise<{ runtime: Runtime; close(): Promise<void> }> {
  const config = loadConfig({
    DATABASE_URL: database.url,
    ATLAS_HOME: manifests,
    ATLAS_MANIFESTS: manifests,
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
    ...env,
  });
  const engine = await startEngine({ config, log: silentLogger, http: false, worker: false, database });
  return { runtime: engine.runtime, close: () => engine.stop() };
}
