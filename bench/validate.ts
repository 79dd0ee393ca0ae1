// Validation throughput: 1,000 generated workflows (5 steps each, templates, needs, an `if`)
// validated as one catalogue, against a baseline measured in the same run (YAML parsing
// alone, as validation reads it). Then the wall time of `atlas validate manifests/`, process
// start included, from the compiled CLI and from the sources.
// Run: npx tsx bench/validate.ts
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain JavaScript build script, run by npm before any TypeScript tooling
import { build } from '../bin/build-dist.js';
import { builtinConnectors } from '../connectors/index.ts';
import { childEnvironment } from '../engine/config.ts';
import { makeConnectorRegistry } from '../engine/connector-sdk/index.ts';
import { fastParse } from '../engine/manifest/fast-parse.ts';
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
  for (const source of sources) if ('text' in source) fastParse(source.text);
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

// Wall time of the command as a user runs it, process start included: from dist/ (what
// `npm install` builds, rebuilt here so it is fresh) and from the sources through tsx. The
// compiled runs are interleaved with a bare `node -e ''` and an 18-manifest catalogue, round by
// round, so that a shared machine's load weighs on all three alike.
const ROUNDS = 9;
const SMALL = ['manifests/agents', 'manifests/oauth', 'manifests/webhooks'].concat(
  [1, 2, 3, 4, 5, 6].map(
    (n) =>
      `manifests/workflows/${readdirSync(join(ROOT, 'manifests/workflows')).find((f) => f.startsWith(`WF-00${n}-`))}`,
  ),
);
function timed(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const start = performance.now();
  execFileSync('node', args, { cwd: ROOT, stdio: 'ignore', env: childEnvironment(env) });
  return performance.now() - start;
}
const show = (runs: number[]) => {
  const sorted = [...runs].sort((a, b) => a - b);
  const [min, median, max] = [sorted[0]!, sorted[sorted.length >> 1]!, sorted.at(-1)!];
  return `median ${median.toFixed(0)} ms (min ${min.toFixed(0)}, max ${max.toFixed(0)})`;
};

await build();
const bare: number[] = [];
const full: number[] = [];
const small: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  bare.push(timed(['-e', '']));
  full.push(timed(['bin/atlas.js', 'validate', 'manifests/'], { ATLAS_FROM_SOURCE: '0' }));
  small.push(timed(['bin/atlas.js', 'validate', ...SMALL], { ATLAS_FROM_SOURCE: '0' }));
}
const source = [0, 1, 2].map(() =>
  timed(['bin/atlas.js', 'validate', 'manifests/'], { ATLAS_FROM_SOURCE: '1' }),
);
console.log(`atlas validate, process start included (${ROUNDS} interleaved rounds; target < 500 ms):`);
console.log(`  manifests/ from dist/:     ${show(full)}`);
console.log(`  18 manifests from dist/:   ${show(small)}`);
console.log(`  bare node -e '':           ${show(bare)}`);
console.log(`  manifests/ from sources:   ${show(source)}`);
