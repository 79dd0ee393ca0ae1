/**
 * Document sources: where the bytes of a document come from. Each source is a small object
 * that recognises its input field and loads the bytes. URLs go through the hub (`ctx.http`: SSRF guard, audit, timeout), each redirect
 * hop checked again.
 */
import { createHash } from 'node:crypto';
import { type ActionContext, ConnectorError, type KbIngestInput } from '../connector-sdk/index.ts';

export interface LoadedDocument {
  type: 'text' | 'url' | 'data' | 'file';
  /** The document's identity within the tenant. */
  key: string;
  bytes: Uint8Array;
  name?: string;
  contentType?: string;
}

export interface DocumentSource {
  type: LoadedDocument['type'];
  matches(input: KbIngestInput): boolean;
  load(ctx: ActionContext, input: KbIngestInput, maxBytes: number): Promise<LoadedDocument>;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function tooLarge(size: number, maxBytes: number): ConnectorError {
  return ConnectorError.fatal(
    'too_large',
    `the document has ${size} bytes; at most ${maxBytes} are accepted`,
  );
}

const textSource: DocumentSource = {
  type: 'text',
  matches: (input) => input.text !== undefined,
  async load(_ctx, input, maxBytes) {
    const bytes = new TextEncoder().encode(input.text);
    if (bytes.length > maxBytes) throw tooLarge(bytes.length, maxBytes);
    return {
      type: 'text',
      key: input.key ?? `text:${sha(bytes)}`,
      bytes,
      ...(input.name ? { name: input.name } : {}),
      contentType: input.contentType ?? 'text/markdown',
    };
  },
};

const dataSource: DocumentSource = {
  type: 'data',
  matches: (input) => input.data !== undefined,
  async load(_ctx, input, maxBytes) {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(input.data!.replace(/\s+/g, '')))
      throw ConnectorError.fatal('invalid_input', '`data` is not base64');
    const bytes = new Uint8Array(Buffer.from(input.data!, 'base64'));
    if (bytes.length > maxBytes) throw tooLarge(bytes.length, maxBytes);
    return {
      type: 'data',
      key: input.key ?? (input.name ? `name:${input.name}` : `data:${sha(bytes)}`),
      bytes,
      ...(input.name ? { name: input.name } : {}),
      ...(input.contentType ? { contentType: input.contentType } : {}),
    };
  },
};

const MAX_REDIRECTS = 5;

const urlSource: DocumentSource = {
  type: 'url',
  matches: (input) => input.url !== undefined,
  async load(ctx, input, maxBytes) {
    let url = new URL(input.url!);
    for (let hop = 0; ; hop++) {
      // ctx.http refuses private targets (the kb connector is SSRF-guarded) and never follows
      // a redirect itself: each hop is checked here again.
      const response = await ctx.http.fetch(url, {
        redirect: 'manual',
        headers: {
          accept: 'text/html, text/markdown, text/plain, application/pdf, application/json, */*;q=0.5',
        },
      });
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        await response.body?.cancel().catch(() => undefined);
        if (hop >= MAX_REDIRECTS)
          throw ConnectorError.fatal(
            'too_many_redirects',
            `${input.url} redirects more than ${MAX_REDIRECTS} times`,
          );
        url = new URL(response.headers.get('location')!, url);
        continue;
      }
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel().catch(() => undefined);
        const message = `fetching ${url.host}${url.pathname} answered ${response.status}`;
        if (response.status === 429 || response.status >= 500)
          throw ConnectorError.retryable('provider_unavailable', message, { status: response.status });
        throw ConnectorError.fatal('fetch_failed', message, { status: response.status });
      }
      const bytes = await readLimited(response, maxBytes);
      const name = decodeURIComponent(url.pathname.split('/').at(-1) ?? '') || url.host;
      return {
        type: 'url',
        key: input.key ?? input.url!,
        bytes,
        name: input.name ?? name,
        ...((input.contentType ?? response.headers.get('content-type'))
          ? { contentType: input.contentType ?? response.headers.get('content-type')! }
          : {}),
      };
    }
  },
};

async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(declared, maxBytes);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const part of response.body ?? []) {
      total += part.byteLength;
      if (total > maxBytes) throw tooLarge(total, maxBytes);
      parts.push(part);
    }
  } catch (err) {
    await response.body?.cancel().catch(() => undefined);
    if (err instanceof ConnectorError) throw err;
    const found = ConnectorError.find(err);
    if (found?.code === 'response_too_large') throw tooLarge(total, maxBytes);
    throw (
      found ?? ConnectorError.retryable('network', `reading the document failed: ${(err as Error).message}`)
    );
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A file the tenant stored (`/v1/files`, `files.put`): read through the tenant's file store. */
const fileSource: DocumentSource = {
  type: 'file',
  matches: (input) => input.fileId !== undefined,
  async load(ctx, input, maxBytes) {
    if (!ctx.files) throw ConnectorError.fatal('not_available', 'this installation has no file store');
    let read: Awaited<ReturnType<NonNullable<ActionContext['files']>['read']>>;
    try {
      read = await ctx.files.read(input.fileId!, maxBytes);
    } catch (err) {
      if (ConnectorError.find(err)?.code === 'file_too_large') throw tooLarge(maxBytes + 1, maxBytes);
      throw err;
    }
    return {
      type: 'file',
      key: input.key ?? `file:${read.info.id}`,
      bytes: read.bytes,
      name: input.name ?? read.info.name,
      contentType: input.contentType ?? read.info.contentType,
    };
  },
};

export const SOURCES: readonly DocumentSource[] = [textSource, urlSource, dataSource, fileSource];

export function sourceFor(input: KbIngestInput): DocumentSource {
  const found = SOURCES.filter((s) => s.matches(input));
  if (found.length !== 1)
    throw ConnectorError.fatal('invalid_input', 'give exactly one of text, url, data or fileId');
  return found[0]!;
}
