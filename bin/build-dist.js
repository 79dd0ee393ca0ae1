#!/usr/bin/env node
// Compiles the CLI into dist/ with esbuild, so every command starts without tsx
// (bin/atlas.js). Run by `npm run build` and by `prepare` on every `npm install` and `npm ci`.
// dist/build.json records the size and mtime of every input of each command (and the
// directories read by a glob import, such as migrations/); bin/atlas.js uses dist/ only while
// all of them are unchanged, so an edited or added source is never run stale.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Every command, by the name bin/atlas.js sees first, with the module that implements it
 * (null: main and the command list only). A name not listed (a typo) runs with `help`'s.
 */
export const COMPILED_COMMANDS = {
  serve: 'engine/cli/serve.ts',
  worker: 'engine/cli/serve.ts',
  migrate: 'engine/cli/migrate.ts',
  validate: 'engine/cli/validate.ts',
  schema: 'engine/cli/schema.ts',
  connectors: 'engine/cli/connectors.ts',
  connector: 'engine/cli/connector.ts',
  run: 'engine/cli/run.ts',
  token: 'engine/cli/token.ts',
  tenants: 'engine/cli/tenants.ts',
  audit: 'engine/cli/audit.ts',
  workflows: 'engine/cli/workflows.ts',
  runs: 'engine/cli/runs.ts',
  jobs: 'engine/cli/jobs.ts',
  files: 'engine/cli/files.ts',
  import: 'engine/cli/import.ts',
  kb: 'engine/cli/kb.ts',
  '--version': 'engine/version.ts',
  '-v': 'engine/version.ts',
  help: null,
  '--help': null,
  '-h': null,
};

/**
 * Directories whose files are imported by a pattern (`import(\`../../migrations/${file}\`)`):
 * a file added there after the build is not in dist/, so the directory's mtime is stamped too.
 */
const GLOB_DIRS = ['migrations'];

// The manifest path's pure-JS libraries are bundled: loading Ajv alone as ~100 CommonJS
// files took longer than validating the catalogue. Every other package stays a plain import.
const BUNDLED = new Set(['ajv', 'ajv-formats', 'yaml', 'js-yaml', 'cron-parser', 'json-logic-js', 'knex']);
// Database drivers knex can load but Atlas does not use (it speaks PostgreSQL through `pg`).
const UNUSED_DRIVERS = [
  'mysql',
  'mysql2',
  'mariadb',
  'sqlite3',
  'better-sqlite3',
  'oracledb',
  'tedious',
  'pg-native',
  'pg-query-stream',
];

/** Builds dist/ (or `outdir`); returns the number of inputs recorded in its stamp. */
export async function build({ root = ROOT, outdir = join(root, 'dist') } = {}) {
  const esbuild = await import('esbuild');
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const external = [
    ...Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((p) => !BUNDLED.has(p)),
    ...UNUSED_DRIVERS,
  ];
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
  // Inputs are listed once; each command names the indices of what running it can load:
  // main, the command list and the command's own chunk, with every chunk each imports,
  // statically or on demand (an edit to a lazily loaded file must not run stale either).
  const files = [];
  const index = new Map();
  const indexOf = (input) => {
    const file = stampedFile(input);
    if (!index.has(file)) {
      const { size, mtimeMs } = statSync(join(root, file));
      index.set(file, files.push([file, size, mtimeMs]) - 1);
    }
    return index.get(file);
  };
  const dirs = GLOB_DIRS.map((dir) => [dir, statSync(join(root, dir)).mtimeMs]);
  const list = byEntry.get('engine/cli/commands.ts');
  const commands = {};
  for (const [name, source] of Object.entries(COMPILED_COMMANDS)) {
    const roots = [main, list, source && byEntry.get(source)];
    if (roots.includes(undefined)) throw new Error(`no output for ${source}`);
    const chunks = new Set();
    const visit = (file) => {
      if (!file || chunks.has(file)) return;
      chunks.add(file);
      for (const i of outputs[file].imports) {
        // The command list loads every command on demand: only this command's is followed.
        if (!i.external && !(file === list && i.kind === 'dynamic-import')) visit(i.path);
      }
    };
    roots.forEach(visit);
    const inputs = new Set();
    for (const chunk of chunks)
      for (const input of Object.keys(outputs[chunk].inputs)) inputs.add(indexOf(input));
    commands[name] = [...inputs].sort((a, b) => a - b);
  }
  mkdirSync(outdir, { recursive: true });
  writeFileSync(
    join(outdir, 'build.json'),
    JSON.stringify({ entry: relative(outdir, join(root, main)), dirs, files, commands }),
  );
  return Object.keys(result.metafile.inputs).length;
}

/**
 * What the stamp checks for an input: the file itself, or for a bundled package's file its
 * package.json, which npm writes again whenever it installs the package (a command then
 * stats one file per package instead of hundreds).
 */
function stampedFile(input) {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  return `${input.slice(0, at)}node_modules/${name}/package.json`;
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
