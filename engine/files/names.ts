/**
 * What a file may be called and what it may claim to be. Names are labels, never paths: no
 * separators, no `..`, no control characters, at most 255 bytes of UTF-8. A declared content
 * type must agree with the bytes where the bytes say what they are (magic numbers).
 */
import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';

export class FileInputError extends Error {
  override readonly name = 'FileInputError';
  constructor(
    message: string,
    readonly status: 400 | 413 | 415 = 400,
  ) {
    super(message);
  }
}

/** C0 and C1 control characters and DEL. */
function hasControl(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

export function checkFileName(name: string): string {
  if (name.length === 0) throw new FileInputError('The file name is empty.');
  if (Buffer.byteLength(name, 'utf8') > 255)
    throw new FileInputError('The file name is longer than 255 bytes.');
  if (hasControl(name)) throw new FileInputError('The file name contains control characters.');
  if (name.includes('/') || name.includes('\\'))
    throw new FileInputError('The file name contains a path separator.');
  if (name.includes('..')) throw new FileInputError('The file name contains "..".');
  if (name.trim() === '' || name === '.') throw new FileInputError('The file name is blank.');
  return name;
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const GENERIC = new Set(['application/octet-stream', 'binary/octet-stream', 'application/unknown']);

/**
 * A declared Content-Type, normalised: the lowercase media type and its charset, other
 * parameters dropped; undefined when absent or generic (application/octet-stream).
 */
export function declaredType(header: string | undefined): string | undefined {
  const [first, ...parameters] = (header ?? '').split(';');
  const type = first?.trim().toLowerCase();
  if (type === undefined || type === '' || GENERIC.has(type)) return undefined;
  if (!MEDIA_TYPE.test(type)) throw new FileInputError(`"${type.slice(0, 60)}" is not a media type.`, 415);
  const charset = parameters
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  return charset !== undefined && /^[a-z0-9._-]{1,40}$/.test(charset) ? `${type}; charset=${charset}` : type;
}

/**
 * The content type to store: the declared one when the bytes agree with it, the sniffed one
 * when nothing is declared, else application/octet-stream. A declared type that the bytes
 * contradict is refused (415): a "PDF" that is an executable, a "PNG" that is HTML.
 */
export async function resolveContentType(declared: string | undefined, head: Uint8Array): Promise<string> {
  const bare = declared?.split(';')[0];
  const sniffed = await fileTypeFromBuffer(head).catch(() => undefined);
  if (sniffed) {
    if (bare !== undefined && bare !== sniffed.mime && !compatible(bare, sniffed.mime)) {
      throw new FileInputError(`The body is ${sniffed.mime}, not ${bare} as declared.`, 415);
    }
    return declared ?? sniffed.mime;
  }
  if (bare !== undefined && (supportedMimeTypes as ReadonlySet<string>).has(bare) && !textual(bare)) {
    throw new FileInputError(`The body is not ${bare} as declared.`, 415);
  }
  return declared ?? 'application/octet-stream';
}

/** Containers that hold more specific formats (a .docx is a zip, an .xlsx too). */
function compatible(declared: string, sniffed: string): boolean {
  if (sniffed === 'application/zip') return declared.includes('zip') || declared.includes('openxmlformats');
  if (declared === 'application/zip')
    return sniffed.includes('openxmlformats') || sniffed.includes('opendocument');
  if (sniffed === 'application/xml' || sniffed === 'image/svg+xml') return declared.endsWith('xml');
  return false;
}

function textual(type: string): boolean {
  return type.startsWith('text/') || type.endsWith('+xml') || type.endsWith('/xml') || type.endsWith('json');
}
