/**
 * Manifests past the parse limits: a YAML "billion laughs", nesting deeper than 64 levels
 * (block, flow, or through an alias) and an oversized file each give one positioned error,
 * quickly, and never an exception.
 */
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { formatErrors, validateSources } from '../../engine/manifest/index.ts';

const HEAD = 'apiVersion: atlas/v1\nkind: Workflow\nid: WF-777\ntrigger: { type: manual }\n';

function check(text: string) {
  const started = performance.now();
  const { catalogue, errors } = validateSources([{ file: 'bad.yaml', text }], {
    connectors: builtinConnectors,
  });
  const ms = performance.now() - started;
  expect(catalogue).toBeUndefined();
  return { errors: errors.map((e) => [e.line, e.column, e.message]), ms, report: formatErrors(errors) };
}

describe('manifest parse limits', () => {
  it('a billion laughs is refused at the alias that explodes, in well under a second', () => {
    let text = `${HEAD}lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
    for (let i = 1; i <= 9; i++)
      text += `lol${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    text += 'steps: [{ id: s, uses: core.noop, with: { value: *a9 } }]\n';
    const { errors, ms, report } = check(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]![2]).toMatch(/invalid YAML: .*alias/i);
    expect(errors[0]!.slice(0, 2)).not.toEqual([1, 1]);
    expect(report).toMatch(/^bad\.yaml:\d+:\d+ /);
    expect(ms).toBeLessThan(1000);
  });

  it.each([
    [
      'block maps',
      `${HEAD}x:\n${Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i + 1)}k:`).join('\n')} 1\n`,
    ],
    ['flow sequences, 8,000 deep', `${HEAD}x: ${'['.repeat(8000)}${']'.repeat(8000)}\n`],
    [
      'block maps, 1,000 deep',
      `${HEAD}x:\n${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')} 1\n`,
    ],
    [
      'an alias of a deep anchor',
      `${HEAD}a: &deep ${'['.repeat(40)}${']'.repeat(40)}\nb: ${'['.repeat(40)}*deep${']'.repeat(40)}\n`,
    ],
  ])('%s: nested deeper than 64 levels is one positioned error', (_name, text) => {
    const { errors, ms } = check(text);
    expect(errors).toHaveLength(1);
    const [line, column, message] = errors[0]!;
    expect(message).toMatch(/nested deeper than 64 levels/);
    expect(line).toBeGreaterThan(4);
    expect(column).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2000);
  });

  it('a file larger than 1 MB is refused before it is parsed', () => {
    const { errors } = check(`${HEAD}description: "${'x'.repeat(1_100_000)}"\n`);
    expect(errors).toEqual([[1, 1, expect.stringMatching(/larger than 1 MB/)]]);
  });
});
