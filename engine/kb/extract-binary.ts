// PDF and DOCX as text, each refused before parsing when it is too large or a zip bomb.
import { DocumentError, type Extracted, type ExtractLimits, normalise } from './document.ts';
import { extractHtml } from './extract-markup.ts';

/**
 * Page objects written in the clear (`/Type /Page`), counted without parsing: a lower bound
 * of the page count (object streams hide some), enough to refuse a huge PDF before pdf.js
 * spends seconds walking its page tree.
 */
function visiblePages(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
}

export async function extractPdf(bytes: Uint8Array, limits: ExtractLimits): Promise<Extracted> {
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

export async function extractDocx(bytes: Uint8Array, limits: ExtractLimits): Promise<Extracted> {
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
