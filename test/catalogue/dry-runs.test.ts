/**
 * Every shipped workflow's dry run, from its fixtures in test/fixtures/dry-run/<id>/:
 * `trigger.json` (a webhook's event as the provider sends it, or an event/schedule trigger's
 * fields), `input.json`, `config.json` (the tenant config), recorded step outputs
 * (`<step id>.json`), and `plan.json` (the action each step must get: run or skip). The plan
 * must cover every step, with no error and no input left unknown.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { sampleTrigger } from '../../engine/cli/run-plan.ts';
import { makeConnectorRegistry } from '../../engine/connector-sdk/index.ts';
import { loadShippedCatalogue } from '../../engine/manifest/gen-catalogue.ts';
import { dryRun } from '../../engine/runtime/dry-run.ts';
import { ROOT } from '../helpers/cli.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/dry-run');
const catalogue = await loadShippedCatalogue();
const connectors = makeConnectorRegistry(builtinConnectors);

async function optionalJson(file: string): Promise<unknown> {
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as unknown) : undefined;
}

describe('the dry run of every shipped workflow', () => {
  for (const { manifest } of catalogue.workflows()) {
    it(`${manifest.id} ${manifest.name ?? ''}`, async () => {
      const dir = path.join(FIXTURES, manifest.id);
      expect(existsSync(dir), `${manifest.id} has no dry-run fixtures in ${dir}`).toBe(true);
      expect((await readdir(dir)).filter((f) => f.endsWith('.json')).length).toBeGreaterThan(0);
      const { trigger } = manifest;
      const input =
        (await optionalJson(path.join(dir, 'input.json'))) ??
        (trigger.type === 'schedule' ? (trigger.input ?? {}) : {});
      const sample = await optionalJson(path.join(dir, 'trigger.json'));
      if (trigger.type === 'webhook') expect(sample, `${manifest.id} needs a trigger.json`).toBeDefined();
      const built = sample === undefined ? undefined : sampleTrigger(catalogue, manifest, sample);
      expect(built?.note).toBeUndefined();
      const { steps } = await dryRun({
        workflow: manifest,
        connectors,
        tenantId: 'demo',
        input,
        ...(built ? { trigger: built.trigger } : {}),
        fixturesDir: dir,
        workflows: (id) => catalogue.workflow(id)?.manifest,
        tenantConfig: ((await optionalJson(path.join(dir, 'config.json'))) ?? {}) as Record<string, unknown>,
      });
      expect(steps.filter((s) => s.action === 'error')).toEqual([]);
      expect(steps.filter((s) => s.unknownInput !== undefined).map((s) => s.id)).toEqual([]);
      expect(steps.map((s) => s.id).sort()).toEqual(manifest.steps.map((s) => s.id).sort());
      const expected = (await optionalJson(path.join(dir, 'plan.json'))) as
        | Record<string, string>
        | undefined;
      if (expected) expect(Object.fromEntries(steps.map((s) => [s.id, s.action]))).toEqual(expected);
    });
  }
});
