/**
 * Text extraction for the knowledge base: plain text, Markdown, HTML (scripts and styles
 * dropped), PDF (unpdf, pdf.js underneath), DOCX (mammoth) and JSON. Everything a document
 * may do wrong (invalid UTF-8, a zip bomb, ten thousand pages, nothing readable) is a
 * {@link DocumentError} naming the reason; the caller fails that document and goes on.
 */
import {
  DEFAULT_LIMITS,
  DocumentError,
  type DocumentKind,
  type Extracted,
  type ExtractLimits,
  normalise,
} from './document.ts';
import { extractDocx, extractPdf } from './extract-binary.ts';
import { extractHtml, extractJson } from './extract-markup.ts';

export {
  DEFAULT_LIMITS,
  DocumentError,
  type DocumentKind,
  type Extracted,
  type ExtractLimits,
} from './document.ts';
export { checkZip } from './extract-binary.ts';
export { extractHtml } from './extract-markup.ts';

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
