// Validation throughput: 1,000 generated workflows (5 steps each, templates, needs, an `if`)
// validated as one catalogue, against a baseline measured in the same run (YAML parsing
// alone). Then the wall time of `atlas validate manifests/`, process start included.
// Run: npx tsx bench/validate.ts
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { builtinConnectors } from '../connectors/index.ts';
import { makeConnectorRegistry } from '../engine/connector-sdk/index.ts';
import { type ManifestSource, validateSources } from '../engine/manifest/index.ts';

const COUNT = 1_000;
const ROOT = join(import.meta.dirname, '..');

function workflow(n: number): string {
  const id = `WF-${String(n % 1000).padStart(3, '0')}`;
  return `apiVersion: atlas/v1
kind: Workflow
id: ${id}
name: Generated ${n}
trigger: { type: schedule, cron: "${n % 60} ${n % 24} * * *", input: { url: "https://example.com/${n}" } }
input:
  type: object
  required: [url]
  properties: { url: { type: string } }
defaults: { timeout: 20s, retry: { maxAttempts: 3, backoff: { initial: 1s, max: 1m } } }
steps:
  - id: fetch
    uses: http.request
    with: { url: "{{ input.url }}", headers: { accept: application/json }, timeout: 10s }
  - id: shape
    uses: core.set
    with: { value: { status: "{{ steps.fetch.output.status }}", body: "{{ steps.fetch.output.body }}" } }
  - id: check
    uses: core.noop
    needs: [fetch]
  - id: post
    uses: http.request
    if: { "==": [{ var: steps.fetch.output.status }, 200] }
    needs: [shape, check]
    with:
      method: POST
      url: "https://hooks.example.com/{{ tenant.id }}"
      headers: { authorization: "Bearer {{ secrets.HOOK_TOKEN }}" }
      json: "{{ steps.shape.output }}"
  - id: done
    uses: core.log
    with: { message: "run ${n} posted {{ steps.post.output.status }}", level: info }
`;
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

// Ids must be unique, so the catalogue is validated in batches of distinct ids.
const sources: ManifestSource[] = Array.from({ length: COUNT }, (_, n) => ({
  file: `wf-${n}.yaml`,
  text: workflow(n),
}));
const registry = makeConnectorRegistry(builtinConnectors);
const batches = [sources.slice(0, 500), sources.slice(500)];

// Warm-up: compile the schemas once, as a long-running engine would.
validateSources(batches[0]!.slice(0, 5), { connectors: registry });

const parseMs = time(() => {
  for (const source of sources)
    if ('text' in source) for (const doc of parseAllDocuments(source.text)) doc.toJS();
});
let errors = 0;
const validateMs = time(() => {
  for (const batch of batches) errors += validateSources(batch, { connectors: registry }).errors.length;
});
if (errors > 0) throw new Error(`the generated manifests should be valid, got ${errors} errors`);

const rate = (COUNT / validateMs) * 1000;
console.log(`validate: ${COUNT} manifests in ${validateMs.toFixed(0)} ms = ${rate.toFixed(0)} manifests/s`);
console.log(
  `baseline (YAML parse only): ${parseMs.toFixed(0)} ms; validation costs ${(validateMs / parseMs).toFixed(1)}x parsing`,
);

const runs: number[] = [];
for (let i = 0; i < 5; i++) {
  const start = performance.now();
  execFileSync('node', ['bin/atlas.js', 'validate', 'manifests/'], { cwd: ROOT, stdio: 'ignore' });
  runs.push(performance.now() - start);
}
runs.sort((a, b) => a - b);
const start = performance.now();
execFileSync('node', ['-e', ''], { stdio: 'ignore' });
const bare = performance.now() - start;
console.log(
  `atlas validate manifests/: median ${runs[2]!.toFixed(0)} ms (min ${runs[0]!.toFixed(0)}, max ${runs[4]!.toFixed(0)}); bare node start ${bare.toFixed(0)} ms; target < 300 ms`,
);
