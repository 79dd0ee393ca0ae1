#!/usr/bin/env node
// Entry point of the `atlas` command. The engine is TypeScript run through tsx's loader,
// so a clone runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
