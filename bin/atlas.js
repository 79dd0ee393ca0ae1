#!/usr/bin/env -S node --max-old-space-size=1024
// Entry point of the `atlas` command. `npm install` compiles the CLI into dist/
// (bin/build-dist.js), and every command runs from there while every file it was compiled
// from has the size and mtime it had then (and no migration was added since), so an edit is
// never run stale. Otherwise, or with ATLAS_FROM_SOURCE=1, the TypeScript sources run through
// tsx's loader, so a clone runs without a build step, only slower to start.
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
  const inputs = stamp.commands?.[Object.hasOwn(stamp.commands, command) ? command : 'help'];
  if (!Array.isArray(inputs) || !Array.isArray(stamp.dirs)) return undefined; // an older build
  const root = fileURLToPath(new URL('..', import.meta.url));
  const unchanged = (file, size, mtimeMs) => {
    const now = statSync(root + file, { throwIfNoEntry: false });
    return now !== undefined && (size === undefined || now.size === size) && now.mtimeMs === mtimeMs;
  };
  for (const [dir, mtimeMs] of stamp.dirs) if (!unchanged(dir, undefined, mtimeMs)) return undefined;
  for (const i of inputs) if (!unchanged(...stamp.files[i])) return undefined;
  return import(new URL(`../dist/${stamp.entry}`, import.meta.url).href);
}
