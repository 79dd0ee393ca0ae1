/**
 * ATLAS_CONNECTORS: a valid plugin loads beside the built-ins; every faulty one refuses the
 * start with one sentence that names the plugin and the reason.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { SDK_VERSION } from '../../engine/connector-sdk/index.ts';
import { loadPlugins, PluginError } from '../../engine/plugins/index.ts';
import { ROOT } from '../helpers/cli.ts';

const cwd = path.join(ROOT, 'test/fixtures');
const load = (sources: string[], timeoutMs?: number) =>
  loadPlugins(sources, { builtins: builtinConnectors, cwd, ...(timeoutMs ? { timeoutMs } : {}) });

async function refusal(sources: string[], timeoutMs?: number): Promise<string> {
  const err = await load(sources, timeoutMs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PluginError);
  const message = (err as PluginError).message;
  // One sentence: no line breaks, no stack.
  expect(message).not.toContain('\n');
  return message;
}

describe('loading connector plugins', () => {
  it('loads a module file and a package directory, with where each came from', async () => {
    const { connectors, plugins } = await load(['./plugins/echo.ts']);
    expect(connectors.map((c) => c.id)).toEqual(['echo']);
    expect(plugins).toEqual([
      expect.objectContaining({
        id: 'echo',
        source: './plugins/echo.ts',
        file: path.join(cwd, 'plugins/echo.ts'),
        sdkVersion: '^1.0.0',
      }),
    ]);
    const pkg = await load([path.join(cwd, 'plugins/echo-package')]);
    expect(pkg.plugins[0]!.package).toEqual({ name: 'atlas-connector-echo-fixture', version: '2.3.4' });
  });

  it('refuses a plugin that throws on import', async () => {
    expect(await refusal(['./plugins/throws.ts'])).toBe(
      'connector plugin "./plugins/throws.ts" failed to load: the echo client needs ECHO_REGION',
    );
  });

  it('refuses a plugin that exports nothing', async () => {
    expect(await refusal(['./plugins/exports-nothing.ts'])).toBe(
      'connector plugin "./plugins/exports-nothing.ts" exports no connector definition: export default defineConnector({ ... }) from its entry module',
    );
  });

  it('refuses a plugin that declares an action twice', async () => {
    expect(await refusal(['./plugins/duplicate-action.ts'])).toBe(
      'connector plugin "./plugins/duplicate-action.ts" declares the action twice.say twice',
    );
  });

  it('refuses a plugin that does not finish loading in time', async () => {
    const started = Date.now();
    expect(await refusal(['./plugins/slow.ts'], 300)).toBe(
      'connector plugin "./plugins/slow.ts" did not finish loading within 0.3 s',
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses an id a built-in or another plugin has', async () => {
    expect(await refusal(['./plugins/builtin-id.ts'])).toBe(
      'connector plugin "./plugins/builtin-id.ts" declares the connector id "http", which a built-in connector has',
    );
    expect(await refusal(['./plugins/echo.ts', './plugins/echo-package'])).toBe(
      'connector plugin "./plugins/echo-package" declares the connector id "echo", which plugin "./plugins/echo.ts" already declared',
    );
  });

  it('refuses an invalid schema', async () => {
    expect(await refusal(['./plugins/invalid-schema.ts'])).toBe(
      'connector plugin "./plugins/invalid-schema.ts" declares an invalid input schema for badschema.count: properties/n/type must be equal to one of the allowed values',
    );
  });

  it('refuses a plugin whose SDK range excludes this SDK', async () => {
    expect(await refusal(['./plugins/future-sdk.ts'])).toBe(
      `connector plugin "./plugins/future-sdk.ts" (connector future) accepts SDK versions ^2.0.0, and this Atlas has SDK ${SDK_VERSION}`,
    );
  });

  it('refuses a path or a package that is not there', async () => {
    expect(await refusal(['./plugins/missing.ts'])).toBe(
      `connector plugin "./plugins/missing.ts" was not found: ${path.join(cwd, 'plugins/missing.ts')} does not exist`,
    );
    expect(await refusal(['atlas-connector-nowhere'])).toBe(
      'connector plugin "atlas-connector-nowhere" was not found: install it (npm install atlas-connector-nowhere) where Atlas runs, or give its path',
    );
  });
});
