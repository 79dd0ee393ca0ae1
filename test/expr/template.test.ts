import { describe, expect, it } from 'vitest';
import { parseTemplate, render, renderSync, TemplateError, templateRefs } from '../../engine/expr/index.ts';

const scope = {
  trigger: { type: 'manual', at: '2026-01-01T00:00:00Z' },
  input: { name: 'Ada', count: 3, tags: ['a', 'b'], nested: { ok: true }, empty: null },
  steps: { fetch: { output: { items: [{ id: 7 }], 'odd key': 1 } } },
  tenant: { id: 't1', name: 'Acme' },
};

describe('render', () => {
  it('keeps the type of a string that is exactly one template', () => {
    expect(renderSync('{{ input.count }}', scope)).toBe(3);
    expect(renderSync('  {{ input.nested }} ', scope)).toEqual({ ok: true });
    expect(renderSync('{{ steps.fetch.output.items[0].id }}', scope)).toBe(7);
    expect(renderSync('{{ input.empty }}', scope)).toBeNull();
  });

  it('interpolates templates inside longer strings', () => {
    expect(renderSync('Hi {{ input.name }} of {{ tenant.name }}', scope)).toBe('Hi Ada of Acme');
    expect(renderSync('tags={{ input.tags }} n={{ input.empty }}', scope)).toBe('tags=["a","b"] n=');
  });

  it('renders deeply without touching the original', () => {
    const value = { a: ['{{ input.name }}', { b: '{{ input.count }}' }], c: 1, d: true };
    expect(renderSync(value, scope)).toEqual({ a: ['Ada', { b: 3 }], c: 1, d: true });
    expect(value.a[0]).toBe('{{ input.name }}');
  });

  it('reads quoted keys and dotted indexes', () => {
    expect(renderSync(`{{ steps.fetch.output['odd key'] }}`, scope)).toBe(1);
    expect(renderSync('{{ steps.fetch.output.items.0.id }}', scope)).toBe(7);
  });

  it('throws a clear error on a missing value instead of rendering undefined', () => {
    expect(() => renderSync('{{ input.nope }}', scope)).toThrow(TemplateError);
    expect(() => renderSync('{{ input.nope }}', scope)).toThrow(
      '{{ input.nope }}: input.nope does not exist',
    );
    expect(() => renderSync('{{ steps.other.output }}', scope)).toThrow('steps.other does not exist');
    expect(() => renderSync('{{ unknown.x }}', scope)).toThrow('unknown root "unknown"');
    expect(() => renderSync('{{ input.name', scope)).toThrow('never closed');
  });

  it('uses the ?? fallback for missing and null values', () => {
    expect(renderSync("{{ input.nope ?? 'none' }}", scope)).toBe('none');
    expect(renderSync('{{ input.empty ?? 5 }}', scope)).toBe(5);
    expect(renderSync('{{ input.nope ?? null }}', scope)).toBeNull();
    expect(renderSync('{{ input.name ?? "x" }}', scope)).toBe('Ada');
  });

  it('resolves only the secrets a value reads, asynchronously', async () => {
    const asked: string[] = [];
    const secrets = async (name: string) => {
      asked.push(name);
      return name === 'TOKEN' ? 's3cret' : undefined;
    };
    await expect(render({ h: 'Bearer {{ secrets.TOKEN }}' }, { ...scope, secrets })).resolves.toEqual({
      h: 'Bearer s3cret',
    });
    expect(asked).toEqual(['TOKEN']);
    await expect(render('{{ secrets.MISSING }}', { ...scope, secrets })).rejects.toThrow(
      'the secret MISSING is not set',
    );
    await expect(render('{{ secrets.TOKEN }}', { secrets: { TOKEN: 'x' } })).resolves.toBe('x');
  });
});

describe('templateRefs and parseTemplate', () => {
  it('lists paths with their place in the value', () => {
    const refs = templateRefs({ a: ['x {{ input.name }}', '{{ steps.s.output["k"][2] }}'] });
    expect(refs.map((r) => [r.path, r.at, r.index, r.whole])).toEqual([
      [['input', 'name'], ['a', 0], 2, false],
      [['steps', 's', 'output', 'k', 2], ['a', 1], 0, true],
    ]);
  });

  it('reports syntax errors as refs with an error', () => {
    const [bad, unclosed] = templateRefs('{{ a | b }} {{ c');
    expect(bad?.error).toMatch('unexpected " | b"');
    expect(unclosed?.error).toBe('"{{" is never closed with "}}"');
  });

  it('parses fallbacks of every literal kind', () => {
    expect(parseTemplate(" a.b ?? 'x' ").fallback).toEqual({ value: 'x' });
    expect(parseTemplate('a ?? -1.5').fallback).toEqual({ value: -1.5 });
    expect(parseTemplate('a ?? false').fallback).toEqual({ value: false });
    expect(() => parseTemplate('a ?? []')).toThrow('fallback');
  });
});
