// PDF and DOCX as text, each refused before parsing when it is too large or a zip bomb.
import { createInflateRaw } from 'node:zlib';
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

/** A zip's entries as its central directory lists them: where each one's data is and how it is packed. */
interface ZipEntry {
  method: number;
  packed: number;
  declared: number;
  localHeader: number;
}

function zipEntries(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new DocumentError('unreadable_docx', 'the DOCX is not a readable zip archive');
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      throw new DocumentError('unreadable_docx', 'the DOCX zip directory is damaged');
    const declared = view.getUint32(at + 24, true);
    const packed = view.getUint32(at + 20, true);
    if (declared === 0xffffffff || packed === 0xffffffff)
      throw new DocumentError('too_large', 'the DOCX holds a zip64 entry over 4 GB');
    entries.push({
      method: view.getUint16(at + 10, true),
      packed,
      declared,
      localHeader: view.getUint32(at + 42, true),
    });
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return entries;
}

/** The bytes `data` inflates to, counted as they stream; past `limit` the inflation stops and this throws. */
async function inflatedSize(data: Uint8Array, limit: number): Promise<number> {
  let size = 0;
  const inflate = createInflateRaw();
  inflate.end(data);
  try {
    for await (const chunk of inflate) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new RangeError('over the limit');
    }
  } catch (err) {
    if (err instanceof RangeError) return Number.POSITIVE_INFINITY;
    throw new DocumentError('unreadable_docx', `the DOCX holds a damaged entry: ${(err as Error).message}`);
  } finally {
    inflate.destroy();
  }
  return size;
}

function bombError(unpacked: number, packed: number, maxUnpacked: number): DocumentError | undefined {
  if (unpacked > maxUnpacked)
    return new DocumentError(
      'too_large',
      Number.isFinite(unpacked)
        ? `the DOCX unpacks to ${unpacked} bytes; at most ${maxUnpacked} are allowed (a zip bomb?)`
        : `the DOCX unpacks to more than ${maxUnpacked} bytes (a zip bomb?)`,
    );
  if (unpacked > 1024 * 1024 && unpacked > MAX_RATIO * Math.max(packed, 1))
    return new DocumentError(
      'too_large',
      `the DOCX compresses more than ${MAX_RATIO} to 1, which no document does (a zip bomb?)`,
    );
  return undefined;
}

/** The compression ratio no real document reaches. */
const MAX_RATIO = 200;

/**
 * Refuses zip bombs. The sizes the central directory declares are checked first (cheap), then
 * every entry is really inflated, streamed and discarded, and stopped as soon as the total
 * passes the limit: a zip that lies about its sizes is measured by what it holds, before
 * mammoth inflates it into memory.
 */
export async function checkZip(bytes: Uint8Array, maxUnpacked: number): Promise<void> {
  const entries = zipEntries(bytes);
  const packed = entries.reduce((sum, e) => sum + e.packed, 0);
  const declared = bombError(
    entries.reduce((sum, e) => sum + e.declared, 0),
    packed,
    maxUnpacked,
  );
  if (declared) throw declared;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Past this, the archive is refused by its size or its ratio, whichever comes first.
  const cap = Math.min(maxUnpacked, Math.max(1024 * 1024, MAX_RATIO * packed));
  let unpacked = 0;
  for (const e of entries) {
    const at = e.localHeader;
    if (at + 30 > bytes.length || view.getUint32(at, true) !== 0x04034b50)
      throw new DocumentError('unreadable_docx', 'the DOCX zip directory is damaged');
    const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
    if (start + e.packed > bytes.length)
      throw new DocumentError('unreadable_docx', 'the DOCX zip holds a truncated entry');
    const data = bytes.subarray(start, start + e.packed);
    if (e.method === 0) unpacked += e.packed;
    else if (e.method === 8) unpacked += await inflatedSize(data, cap - unpacked);
    else throw new DocumentError('unreadable_docx', `the DOCX uses zip compression method ${e.method}`);
    if (unpacked > cap) break;
  }
  const actual = bombError(unpacked, packed, maxUnpacked) ?? bombError(unpacked, packed, cap);
  if (actual) throw actual;
}

export async function extractDocx(bytes: Uint8Array, limits: ExtractLimits): Promise<Extracted> {
  await checkZip(bytes, limits.maxUnpackedBytes);
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
