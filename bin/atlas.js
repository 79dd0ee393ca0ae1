#!/usr/bin/env node
// Entry point of the `atlas` command. The engine is TypeScript, run from the sources through
// tsx's loader, so a clone runs without a build step. The commands that only read manifests
// (validate, schema, connectors, help) start in a fraction of that time from dist/, which
// `npm install` compiles (bin/build-dist.js): they use it only while every file it was
// compiled from has the size and mtime it had then, so an edit is never run stale.
// ATLAS_FROM_SOURCE=1 always runs the sources.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const { main } = (await compiled(argv[0] ?? 'help')) ?? (await fromSource());
process.exitCode = await main(argv);

async function fromSource() {
  const { register } = await import('tsx/esm/api');
  register();
  return import('../engine/cli/main.ts');
}

/** dist/'s CLI when it was built for this command from the sources as they are now. */
async function compiled(command) {
  if (process.env.ATLAS_FROM_SOURCE === '1') return undefined;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('../dist/build.json', import.meta.url), 'utf8'));
  } catch {
    return undefined; // never built (or being rebuilt): the sources are always there
  }
  const inputs = Object.hasOwn(stamp.commands, command) ? stamp.commands[command] : undefined;
  if (!inputs) return undefined;
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const [file, [size, mtimeMs]] of Object.entries(inputs)) {
    const now = statSync(root + file, { throwIfNoEntry: false });
    if (now?.size !== size || now.mtimeMs !== mtimeMs) return undefined;
  }
  return import(new URL(`../dist/${stamp.entry}`, import.meta.url).href);
}
