// HTML (scripts and styles dropped, blocks as lines) and JSON (a `path: value` line per leaf) as text.
import { Parser } from 'htmlparser2';
import { DocumentError, type Extracted, normalise } from './document.ts';

const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'iframe', 'object']);
const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'li',
  'ul',
  'ol',
  'table',
  'tr',
  'blockquote',
  'pre',
  'br',
  'hr',
  'dd',
  'dt',
  'figcaption',
]);

/** HTML → text: headings become Markdown headings, blocks paragraphs; scripts and styles are dropped. */
export function extractHtml(html: string): Extracted {
  const parts: string[] = [];
  let skipping = 0;
  let inTitle = false;
  let title = '';
  const parser = new Parser(
    {
      onopentagname(name) {
        if (name === 'title') inTitle = true;
        if (SKIPPED.has(name)) skipping++;
        else if (skipping === 0) {
          const level = /^h([1-6])$/.exec(name)?.[1];
          if (level) parts.push(`\n\n${'#'.repeat(Number(level))} `);
          else if (BLOCKS.has(name)) parts.push('\n\n');
          else if (name === 'td' || name === 'th') parts.push(' ');
        }
      },
      ontext(text) {
        if (inTitle) title += text;
        if (skipping === 0) parts.push(text);
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (SKIPPED.has(name)) skipping = Math.max(0, skipping - 1);
        else if (skipping === 0 && (/^h[1-6]$/.test(name) || BLOCKS.has(name))) parts.push('\n\n');
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  const text = normalise(
    parts
      .join('')
      .replace(/[ \t\u00a0]+/g, ' ')
      .replace(/ *\n */g, '\n'),
  );
  const cleanTitle = title.replace(/\s+/g, ' ').trim();
  return { kind: 'html', text, ...(cleanTitle ? { title: cleanTitle } : {}) };
}

/** JSON → one `path: value` line per leaf, so that a search finds keys and values alike. */
export function extractJson(source: string): Extracted {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new DocumentError('invalid_json', `the JSON document does not parse: ${(err as Error).message}`);
  }
  const lines: string[] = [];
  const walk = (v: unknown, at: string) => {
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, `${at}[${i}]`);
    } else if (v !== null && typeof v === 'object')
      for (const [k, item] of Object.entries(v)) walk(item, at ? `${at}.${k}` : k);
    else lines.push(at ? `${at}: ${String(v)}` : String(v));
  };
  walk(value, '');
  return { kind: 'json', text: normalise(lines.join('\n')) };
}
