// What extraction yields and refuses: the document kinds, the extracted text, the limits, the error.

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

/** Line ends unified, NULs (which PostgreSQL text cannot hold) and runs of blank lines removed. */
export function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replaceAll(String.fromCharCode(0), '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
