// Dependencies point down. Connectors see the engine only through the SDK's own specifier
// (`atlas-engine/sdk`); the SDK imports nothing of the engine above it; `db/` imports only
// modules below it; `webhooks/` does not reach into `http/`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

/** Every module specifier of a source text: static imports and re-exports, dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1]!);
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f));
}

/** `file: specifier` for every relative import of files under `dir` that `allowed` refuses. */
function offenders(dir: string, allowed: (target: string, specifier: string) => boolean): string[] {
  const out: string[] = [];
  for (const file of sources(dir)) {
    for (const spec of specifiers(readFileSync(path.join(ROOT, file), 'utf8'))) {
      const target = spec.startsWith('.') ? path.join(path.dirname(file), spec) : spec;
      if (!allowed(target, spec)) out.push(`${file}: ${spec}`);
    }
  }
  return out;
}

const isPackage = (spec: string) => !spec.startsWith('.') && !spec.startsWith('/');

describe('layers', () => {
  it('finds static, re-exported and dynamic imports', () => {
    const text = [
      "import { a } from '../../engine/x.ts';",
      "import type {\n  B,\n} from 'atlas-engine/sdk';",
      "export { c } from './c.ts';",
      "import './side.ts';",
      "const sdk = await import('acme-sdk');",
    ].join('\n');
    expect(specifiers(text)).toEqual([
      '../../engine/x.ts',
      'atlas-engine/sdk',
      './c.ts',
      './side.ts',
      'acme-sdk',
    ]);
  });

  it('connectors import the engine only as atlas-engine/sdk', () => {
    const bad = offenders('connectors', (target, spec) =>
      isPackage(spec)
        ? spec === 'atlas-engine/sdk' || !spec.startsWith('atlas-engine')
        : target.startsWith('connectors/'),
    );
    expect(bad).toEqual([]);
  });

  it('the SDK imports nothing of the engine but itself, json/ and the root error class', () => {
    const bad = offenders(
      'engine/connector-sdk',
      (target, spec) =>
        isPackage(spec) || /^engine\/(connector-sdk|json)\//.test(target) || target === 'engine/errors.ts',
    );
    expect(bad).toEqual([]);
  });

  it('db/ imports only modules below it', () => {
    const below = /^engine\/(db|audit|json|crypto|connector-sdk)\/|^engine\/(config|log)\.ts$/;
    const bad = offenders('engine/db', (target, spec) => isPackage(spec) || below.test(target));
    expect(bad).toEqual([]);
  });

  it('webhooks/ does not reach into http/', () => {
    const bad = offenders('engine/webhooks', (target) => !target.startsWith('engine/http/'));
    expect(bad).toEqual([]);
  });
});

describe('one of each', () => {
  it('builds every Ajv through engine/json/ajv.ts', () => {
    const files = ['engine', 'connectors']
      .flatMap(sources)
      .filter((f) => f !== 'engine/json/ajv.ts' && !f.includes('.gen.'));
    const bad = files.filter((f) =>
      /new Ajv(2020)?\(|from 'ajv-formats'|\bnew \w*Ajv\w*\(/.test(readFileSync(path.join(ROOT, f), 'utf8')),
    );
    expect(bad).toEqual([]);
  });

  it('encodes pagination cursors only in engine/json/cursor.ts', () => {
    const bad = sources('engine').filter((f) => {
      const text = readFileSync(path.join(ROOT, f), 'utf8');
      return f !== 'engine/json/cursor.ts' && /cursor/i.test(text) && /base64url/.test(text);
    });
    expect(bad).toEqual([]);
  });
});

/** Files that may pass the size limit, each with its reason. */
const LONG_FILES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\.gen\./, 'generated'],
  [/^engine\/config\/variables\.ts$/, 'a table of declarations'],
  // About 300: one start-up sequence, which a split would scatter.
  [/^engine\/feed\/index\.ts$/, "the feed's start and stop, one sequence (303 lines)"],
];

describe('file size', () => {
  it('keeps every engine file under 300 lines', () => {
    const long = sources('engine')
      .filter((f) => !LONG_FILES.some(([re]) => re.test(f)))
      .map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8').split('\n').length - 1] as const)
      .filter(([, lines]) => lines > 300);
    expect(Object.fromEntries(long)).toEqual({});
  });
});
