// Bundles the web console (ui/) into dist/ui with esbuild: one minified script and one
// stylesheet with content hashes in their names, their gzipped copies, and index.html naming
// them. Run by bin/build-dist.js (`npm run build`, `prepare`); the Koa app serves the result.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the console into `outdir`; returns the files written and their gzipped sizes. */
export async function buildUi({ root = ROOT, outdir = join(root, 'dist', 'ui') } = {}) {
  const esbuild = await import('esbuild');
  rmSync(outdir, { recursive: true, force: true });
  const assets = join(outdir, 'assets');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: 'ui/main.js' },
    outdir: assets,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const script = files.find((f) => f.endsWith('.js'));
  const style = files.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error('the console build made no script or no stylesheet');
  const favicon = readFileSync(join(root, 'ui', 'favicon.svg'));
  writeFileSync(join(assets, 'favicon.svg'), favicon);
  const page = readFileSync(join(root, 'ui', 'index.html'), 'utf8')
    .replace('%SCRIPT%', `/ui/assets/${script}`)
    .replace('%STYLE%', `/ui/assets/${style}`)
    .replace('%FAVICON%', '/ui/assets/favicon.svg');
  writeFileSync(join(outdir, 'index.html'), page);
  const sizes = {};
  for (const file of [
    ...files.map((f) => join(assets, f)),
    join(assets, 'favicon.svg'),
    join(outdir, 'index.html'),
  ]) {
    const gz = gzipSync(readFileSync(file), { level: 9 });
    writeFileSync(`${file}.gz`, gz);
    sizes[basename(file)] = gz.length;
  }
  mkdirSync(outdir, { recursive: true });
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await buildUi();
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  process.stdout.write(`atlas: built the console into dist/ui (${(total / 1024).toFixed(1)} KB gzipped)\n`);
}
