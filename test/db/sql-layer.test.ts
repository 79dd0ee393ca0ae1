/**
 * Every SQL statement of the engine lives in engine/db/: every other part of the engine calls
 * its named functions and never writes SQL or builds queries itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

/**
 * Parts of the engine that still issue SQL outside engine/db/, each with its reason. The list
 * only shrinks: an entry that no longer issues SQL fails the test until it is removed.
 */
const EXEMPT: Readonly<Record<string, string>> = {};

/** Every folder of the engine except db/ itself, and the files at its top level. */
const FOLDERS = readdirSync(path.join(ROOT, 'engine'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'db')
  .map((e) => `engine/${e.name}`)
  .sort();

const exempt = (file: string) => Object.keys(EXEMPT).some((x) => file === x || file.startsWith(`${x}/`));

/** SQL in a string or template literal. */
const SQL_TEXT = [
  /\bselect\s+[\w*."(,\s]+?\s+from\s+[a-z_"]/i,
  /\binsert\s+into\s+[a-z_"]/i,
  /\bupdate\s+[a-z_"][\w."]*(\s+[a-z_]\w*)?\s+set\s/i,
  /\bdelete\s+from\s+[a-z_"]/i,
  /\bon\s+conflict\b/i,
  /\bfor\s+update\s+skip\s+locked\b/i,
  /\bgraphile_worker\./i,
  /\bpg_(notify|advisory_\w+)\s*\(/i,
  /^\s*(listen|unlisten|notify|set\s+(local\s+)?role)\s/i,
];

/** Query-builder calls in code (comments and string contents removed). */
const QUERY_CALLS = [
  // db('table'), trx<Row>('table'), knex('table')
  /\b(db|trx|knex|tx)\s*(<[^<>()]*>)?\s*\(\s*['"`]/,
  /\.(raw|where|whereIn|whereNot|whereNull|whereNotNull|whereRaw|andWhere|andWhereRaw|orWhere|onConflict|forUpdate|forShare|skipLocked|returning|orderBy|groupBy|leftJoin|innerJoin|distinctOn)\s*\(/,
  /\.fn\.now\s*\(/,
];

interface Source {
  /** The code with comments removed and every string literal emptied (quotes kept). */
  code: string;
  strings: string[];
}

/** A small lexer: enough of TypeScript to tell code, comments and string literals apart. */
function lex(text: string): Source {
  let code = '';
  const strings: string[] = [];
  let i = 0;
  const braces: number[] = []; // open-brace depth of each `${` we are inside
  let depth = 0;
  const readTemplate = (): void => {
    // after the opening backtick (or a `}` closing a substitution)
    let s = '';
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\\') {
        s += text.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        i++;
        strings.push(s);
        code += '`';
        return;
      } else if (c === '$' && text[i + 1] === '{') {
        i += 2;
        strings.push(s);
        code += '`${';
        braces.push(depth);
        depth++;
        return;
      } else {
        s += c;
        i++;
      }
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '/' && /(^|[(,=:[!&|?{};]|\breturn)\s*$/.test(code.slice(-12))) {
      // A regular expression literal: skipped, character classes included.
      let inClass = false;
      i++;
      while (i < text.length && (inClass || text[i] !== '/')) {
        if (text[i] === '\\') i++;
        else if (text[i] === '[') inClass = true;
        else if (text[i] === ']') inClass = false;
        i++;
      }
      i++;
      code += '/regex/';
    } else if (c === "'" || c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') s += text[i++];
        s += text[i++];
      }
      i++;
      strings.push(s);
      code += `${c}${c}`;
    } else if (c === '`') {
      i++;
      code += '`';
      readTemplate();
    } else if (c === '{') {
      depth++;
      code += c;
      i++;
    } else if (c === '}') {
      depth--;
      i++;
      if (braces.length > 0 && braces.at(-1) === depth) {
        braces.pop();
        code += '}';
        readTemplate();
      } else code += c;
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

/** What in a source file is SQL or a query-builder call, one description each. */
function sqlFindings(text: string): string[] {
  const { code, strings } = lex(text);
  const found: string[] = [];
  for (const s of strings) {
    if (SQL_TEXT.some((re) => re.test(s))) found.push(`SQL text: ${s.trim().slice(0, 60)}`);
  }
  for (const [n, line] of code.split('\n').entries()) {
    const hit = QUERY_CALLS.map((re) => re.exec(line)).find(Boolean);
    if (hit) found.push(`query call at line ${n + 1}: ${hit[0]}`);
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

describe('the data layer', () => {
  it('recognises SQL and query-builder calls', () => {
    expect(sqlFindings("await db('workflow_runs').where({ id }).first();")).not.toEqual([]);
    expect(sqlFindings("await trx<RunRow>('jobs').insert(row);")).not.toEqual([]);
    expect(sqlFindings('await db.raw(`select 1`);')).not.toEqual([]);
    expect(sqlFindings("const q = 'select id from workflow_runs where tenant_id = ?';")).not.toEqual([]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
    expect(sqlFindings('const q = `update jobs set status = ${s} where id = ?`;')).not.toEqual([]);
    expect(sqlFindings("await client.query('listen atlas_run_cancel');")).not.toEqual([]);
    expect(sqlFindings("trx.raw('select graphile_worker.remove_job(?)', [key])")).not.toEqual([]);
    // Comments, prose and transactions are not SQL.
    expect(sqlFindings('// select id from workflow_runs\nconst x = 1;')).toEqual([]);
    expect(sqlFindings('const re = /"var":\\s*"x/;\nawait deps\n  .db(\'tenants\');')).not.toEqual([]);
    expect(sqlFindings("const m = 'Select a tenant first.';\nawait db.transaction(fn);")).toEqual([]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
    expect(sqlFindings('const u = `https://${host}/x`; map.delete(k); s.update(h);')).toEqual([]);
  });

  it('covers every engine folder but db/', () => {
    expect(FOLDERS).toContain('engine/webhooks');
    expect(FOLDERS).toContain('engine/runtime');
    expect(FOLDERS).not.toContain('engine/db');
  });

  it.each([...FOLDERS, 'engine/*.ts'])('%s issues no SQL: it calls engine/db/', (dir) => {
    const files =
      dir === 'engine/*.ts'
        ? readdirSync(path.join(ROOT, 'engine'))
            .filter((f) => f.endsWith('.ts'))
            .map((f) => `engine/${f}`)
        : filesUnder(dir);
    const offenders = Object.fromEntries(
      files
        .filter((f) => !exempt(f))
        .map((f) => [f, sqlFindings(readFileSync(path.join(ROOT, f), 'utf8'))] as const)
        .filter(([, found]) => found.length > 0),
    );
    expect(offenders).toEqual({});
  });

  it.each(Object.keys(EXEMPT))('%s, exempt, still issues SQL (the list shrinks)', (entry) => {
    const files = entry.endsWith('.ts') ? [entry] : filesUnder(entry);
    const found = files.flatMap((f) => sqlFindings(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(found, `${entry} is clean: remove it from EXEMPT`).not.toEqual([]);
  });
});
