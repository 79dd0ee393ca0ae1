/**
 * manifests/README.md is generated from the manifests (`npm run gen:catalogue`): one row per
 * workflow with its id, name, trigger, connectors, requirements and purpose. This fails while
 * the file is stale.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CATALOGUE_FILE,
  loadShippedCatalogue,
  renderCatalogue,
} from '../../engine/manifest/gen-catalogue.ts';

describe('the generated catalogue', () => {
  it('is current: `npm run gen:catalogue` writes what is on disk, one row per workflow', async () => {
    const catalogue = await loadShippedCatalogue();
    const expected = renderCatalogue(catalogue);
    const actual = await readFile(CATALOGUE_FILE, 'utf8');
    expect(actual, 'manifests/README.md is stale: run `npm run gen:catalogue`').toBe(expected);
    const rows = actual.split('\n').filter((l) => /^\| WF-\d{3,4} \|/.test(l));
    expect(rows.map((r) => r.split('|')[1]!.trim())).toEqual(catalogue.workflows().map((w) => w.manifest.id));
  });

  it('gives every shipped workflow a name, a description, and an id below WF-100', async () => {
    const catalogue = await loadShippedCatalogue();
    for (const { manifest } of catalogue.workflows()) {
      expect(manifest.name, manifest.id).toBeTruthy();
      expect(manifest.description?.length ?? 0, manifest.id).toBeGreaterThan(20);
      expect(Number(manifest.id.slice(3)), manifest.id).toBeLessThan(100);
    }
  });
});
