#!/usr/bin/env node
// Compiles the CLI into dist/ with esbuild, so the commands that only read manifests start
// without tsx (bin/atlas.js). Run by `npm run build` and by `prepare` on every `npm install`
// and `npm ci`. dist/build.json records the size and mtime of every input; bin/atlas.js
// uses dist/ only while all of them are unchanged, so an edited source is never run stale.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The commands run from dist/, by the name bin/atlas.js sees first, with the module that
 * implements each. Commands that connect to the database stay on tsx: migrations are
 * TypeScript files imported at run time.
 */
export const COMPILED_COMMANDS = {
  validate: 'engine/cli/validate.ts',
  schema: 'engine/cli/schema.ts',
  connectors: 'engine/cli/connectors.ts',
  '--version': 'engine/version.ts',
  '-v': 'engine/version.ts',
  help: null,
  '--help': null,
  '-h': null,
};

// The manifest path's pure-JS libraries are bundled: loading Ajv alone as ~100 CommonJS
// files took longer than validating the catalogue. Every other package stays a plain import.
const BUNDLED = new Set(['ajv', 'ajv-formats', 'yaml', 'js-yaml', 'cron-parser', 'json-logic-js']);

/** Builds dist/ (or `outdir`); returns the number of inputs recorded in its stamp. */
export async function build({ root = ROOT, outdir = join(root, 'dist') } = {}) {
  const esbuild = await import('esbuild');
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
    (p) => !BUNDLED.has(p),
  );
  rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'engine/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    external,
    metafile: true,
    minifyWhitespace: true,
    minifySyntax: true,
    // Minified code parses faster at start; the maps keep stack traces readable with
    // --enable-source-maps.
    sourcemap: true,
    logLevel: 'warning',
    plugins: [sourceLocation(root)],
    // Bundled CommonJS (cron-parser) requires Node built-ins, which needs a `require`.
    banner: {
      js: "import { createRequire as __atlasCreateRequire } from 'node:module'; const require = __atlasCreateRequire(import.meta.url);",
    },
  });
  const outputs = result.metafile.outputs;
  const byEntry = new Map(Object.entries(outputs).map(([file, o]) => [o.entryPoint, file]));
  const main = byEntry.get('engine/cli/main.ts');
  const commands = {};
  for (const [name, source] of Object.entries(COMPILED_COMMANDS)) {
    // What running the command loads: main, the command list and the command's own chunk,
    // with the chunks each imports statically.
    const roots = [main, byEntry.get('engine/cli/commands.ts'), source && byEntry.get(source)];
    if (roots.includes(undefined)) throw new Error(`no output for ${source}`);
    const files = new Set();
    const visit = (file) => {
      if (!file || files.has(file)) return;
      files.add(file);
      for (const i of outputs[file].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
    };
    roots.forEach(visit);
    const inputs = {};
    for (const file of files) {
      for (const input of Object.keys(outputs[file].inputs)) {
        const { size, mtimeMs } = statSync(join(root, input));
        inputs[input] = [size, mtimeMs];
      }
    }
    commands[name] = inputs;
  }
  mkdirSync(outdir, { recursive: true });
  writeFileSync(
    join(outdir, 'build.json'),
    JSON.stringify({ entry: relative(outdir, join(root, main)), commands }),
  );
  return Object.keys(result.metafile.inputs).length;
}

/**
 * Compiled code keeps reading files next to its source (`schemas/`, `package.json`,
 * `migrations/`): `import.meta.url` and `import.meta.dirname` of a project module are
 * replaced with those of its source file, not the chunk it lands in.
 */
function sourceLocation(root) {
  return {
    name: 'source-location',
    setup(b) {
      b.onLoad({ filter: /\.(ts|js)$/ }, async (args) => {
        if (args.path.includes('/node_modules/') || !args.path.startsWith(root)) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta')) return undefined;
        const contents = text
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        return { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const start = performance.now();
  try {
    const count = await build();
    const ms = (performance.now() - start).toFixed(0);
    process.stdout.write(`atlas: compiled the CLI into dist/ (${count} inputs, ${ms} ms)\n`);
  } catch (err) {
    // A failed build costs speed, never function: bin/atlas.js runs the sources through tsx.
    if (err?.code === 'ERR_MODULE_NOT_FOUND')
      process.stderr.write('atlas: esbuild is not installed; dist/ not built\n');
    else process.stderr.write(`atlas: dist/ not built: ${err?.message ?? err}\n`);
  }
  // The web console, after the CLI (whose build empties dist/); a failure leaves a page that
  // says how to build it.
  try {
    const { buildUi } = await import('./build-ui.js');
    const sizes = await buildUi();
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    process.stdout.write(`atlas: built the console into dist/ui (${(total / 1024).toFixed(1)} KB gzipped)\n`);
  } catch (err) {
    process.stderr.write(`atlas: dist/ui not built: ${err?.message ?? err}\n`);
  }
}
