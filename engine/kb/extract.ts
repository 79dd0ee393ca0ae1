/**
 * Text extraction for the knowledge base: plain text, Markdown, HTML (scripts and styles
 * dropped), PDF (unpdf, pdf.js underneath), DOCX (mammoth) and JSON. Everything a document
 * may do wrong (invalid UTF-8, a zip bomb, ten thousand pages, nothing readable) is a
 * {@link DocumentError} naming the reason; the caller fails that document and goes on.
 */
import { Parser } from 'htmlparser2';

export class DocumentError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentError';
  }
}

export type DocumentKind = 'text' | 'markdown' | 'html' | 'pdf' | 'docx' | 'json';

export interface Extracted {
  kind: DocumentKind;
  text: string;
  title?: string;
}

export interface ExtractLimits {
  /** Most pages a PDF may have. */
  maxPages: number;
  /** Most bytes a DOCX may unpack to (its zip entries' declared sizes). */
  maxUnpackedBytes: number;
}

export const DEFAULT_LIMITS: ExtractLimits = { maxPages: 2000, maxUnpackedBytes: 100 * 1024 * 1024 };

const EXTENSIONS: Record<string, DocumentKind> = {
  txt: 'text',
  text: 'text',
  log: 'text',
  csv: 'text',
  md: 'markdown',
  markdown: 'markdown',
  mdx: 'markdown',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
  docx: 'docx',
  json: 'json',
};

/** The kind of a document, from its bytes first (PDF, zip), then its content type and name. */
export function detectKind(bytes: Uint8Array, name?: string, contentType?: string): DocumentKind {
  if (startsWith(bytes, '%PDF-')) return 'pdf';
  if (startsWith(bytes, 'PK\u0003\u0004')) return 'docx';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/pdf') return 'pdf';
  if (type.includes('wordprocessingml')) return 'docx';
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type === 'text/markdown') return 'markdown';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  const ext = /\.([a-z0-9]+)$/i.exec(name ?? '')?.[1]?.toLowerCase();
  if (ext && EXTENSIONS[ext]) return EXTENSIONS[ext];
  const head = new TextDecoder().decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'html';
  return 'text';
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

export async function extract(
  bytes: Uint8Array,
  opts: { name?: string; contentType?: string; limits?: ExtractLimits } = {},
): Promise<Extracted> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const kind = detectKind(bytes, opts.name, opts.contentType);
  let out: Extracted;
  switch (kind) {
    case 'pdf':
      out = await extractPdf(bytes, limits);
      break;
    case 'docx':
      out = await extractDocx(bytes, limits);
      break;
    case 'html':
      out = extractHtml(decodeUtf8(bytes));
      break;
    case 'json':
      out = extractJson(decodeUtf8(bytes));
      break;
    default:
      out = { kind, text: normalise(decodeUtf8(bytes)) };
      if (kind === 'markdown') {
        const heading = /^#\s+(.+)$/m.exec(out.text)?.[1]?.trim();
        if (heading) out.title = heading;
      }
  }
  if (out.text.trim() === '') throw new DocumentError('empty', `the ${kind} document has no text`);
  return out;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DocumentError('invalid_utf8', 'the document is not valid UTF-8 text');
  }
}

/** Line ends unified, NULs (which PostgreSQL text cannot hold) and runs of blank lines removed. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replaceAll(String.fromCharCode(0), '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

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
function extractJson(source: string): Extracted {
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

/**
 * Page objects written in the clear (`/Type /Page`), counted without parsing: a lower bound
 * of the page count (object streams hide some), enough to refuse a huge PDF before pdf.js
 * spends seconds walking its page tree.
 */
function visiblePages(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
}

async function extractPdf(bytes: Uint8Array, limits: ExtractLimits): Promise<Extracted> {
  const visible = visiblePages(bytes);
  if (visible > limits.maxPages)
    throw new DocumentError(
      'too_many_pages',
      `the PDF has ${visible} pages; at most ${limits.maxPages} are read`,
    );
  const { getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { isEvalSupported: false, stopAtErrors: false });
  } catch (err) {
    throw new DocumentError('unreadable_pdf', `the PDF cannot be read: ${(err as Error).message}`);
  }
  try {
    if (pdf.numPages > limits.maxPages)
      throw new DocumentError(
        'too_many_pages',
        `the PDF has ${pdf.numPages} pages; at most ${limits.maxPages} are read`,
      );
    const pages: string[] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let line = '';
      const lines: string[] = [];
      for (const item of content.items) {
        if (!('str' in item)) continue;
        line += item.str;
        if (item.hasEOL) {
          lines.push(line);
          line = '';
        }
      }
      if (line) lines.push(line);
      pages.push(lines.join('\n'));
      page.cleanup();
    }
    const text = normalise(pages.join('\n\n'));
    if (text === '')
      throw new DocumentError('no_text', 'the PDF has no readable text (scanned images are not read)');
    let title: string | undefined;
    try {
      const meta = (await pdf.getMetadata()) as { info?: { Title?: unknown } };
      if (typeof meta.info?.Title === 'string' && meta.info.Title.trim()) title = meta.info.Title.trim();
    } catch {
      // A missing or broken info dictionary only costs the title.
    }
    return { kind: 'pdf', text, ...(title ? { title } : {}) };
  } finally {
    await pdf.destroy();
  }
}

/**
 * Reads a zip's central directory and refuses archives that declare more unpacked bytes than
 * allowed, or a compression ratio no document has (a zip bomb), before anything is inflated.
 */
export function checkZip(bytes: Uint8Array, maxUnpacked: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new DocumentError('unreadable_docx', 'the DOCX is not a readable zip archive');
  const entries = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  let unpacked = 0;
  let packed = 0;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      throw new DocumentError('unreadable_docx', 'the DOCX zip directory is damaged');
    packed += view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    if (size === 0xffffffff) throw new DocumentError('too_large', 'the DOCX holds a zip64 entry over 4 GB');
    unpacked += size;
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  if (unpacked > maxUnpacked)
    throw new DocumentError(
      'too_large',
      `the DOCX unpacks to ${unpacked} bytes; at most ${maxUnpacked} are allowed (a zip bomb?)`,
    );
  if (unpacked > 1024 * 1024 && unpacked > 200 * Math.max(packed, 1))
    throw new DocumentError(
      'too_large',
      `the DOCX compresses ${Math.round(unpacked / Math.max(packed, 1))} to 1, which no document does (a zip bomb?)`,
    );
}

async function extractDocx(bytes: Uint8Array, limits: ExtractLimits): Promise<Extracted> {
  checkZip(bytes, limits.maxUnpackedBytes);
  const mammoth = (await import('mammoth')).default;
  let html: string;
  try {
    // HTML keeps the headings, which the chunker breaks at.
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (err) {
    throw new DocumentError('unreadable_docx', `the DOCX cannot be read: ${(err as Error).message}`);
  }
  const { text } = extractHtml(html);
  const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim();
  return { kind: 'docx', text, ...(title ? { title } : {}) };
}
