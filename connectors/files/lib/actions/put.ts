import { ConnectorError, defineAction, type FileInfo } from 'atlas-engine/sdk';
import { fileInfo, filesOf } from '../schemas.ts';

export interface PutInput {
  name: string;
  contentType?: string;
  text?: string;
  base64?: string;
  url?: string;
  maxBytes?: number;
}

/** The hub caps every response at 10 MiB; a URL's file can be no larger. */
const MAX_URL_BYTES = 10 * 1024 * 1024;

export const put = defineAction<PutInput, FileInfo>({
  id: 'put',
  description:
    "Store a file in the tenant's files: from text, from base64, or fetched from a URL (size-limited, through the hub's SSRF guard).",
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    oneOf: [{ required: ['text'] }, { required: ['base64'] }, { required: ['url'] }],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 255, description: 'The file name (no path).' },
      contentType: {
        type: 'string',
        description: 'Media type; checked against the bytes. Default: sniffed, else text/plain for text.',
      },
      text: { type: 'string', description: 'The content as UTF-8 text.' },
      base64: { type: 'string', contentEncoding: 'base64', description: 'The content, base64-encoded.' },
      url: { type: 'string', format: 'uri', description: 'An http(s) URL to fetch the content from.' },
      maxBytes: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_URL_BYTES,
        default: MAX_URL_BYTES,
        description: 'Largest file accepted from the URL (at most 10 MiB).',
      },
    },
  },
  output: fileInfo,
  async run(ctx, input) {
    const files = filesOf(ctx);
    if (input.text !== undefined) {
      return files.put({
        name: input.name,
        contentType: input.contentType ?? 'text/plain; charset=utf-8',
        body: Buffer.from(input.text, 'utf8'),
      });
    }
    if (input.base64 !== undefined) {
      return files.put({
        name: input.name,
        ...(input.contentType ? { contentType: input.contentType } : {}),
        body: Buffer.from(input.base64, 'base64'),
      });
    }
    const url = new URL(input.url!);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw ConnectorError.fatal(
        'invalid_input',
        `files.put fetches http(s) URLs only (got ${url.protocol})`,
      );
    const maxBytes = input.maxBytes ?? MAX_URL_BYTES;
    const res = await ctx.http.fetch(url, { signal: ctx.signal });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      const message = `files.put: ${url.host} answered ${res.status}`;
      throw retryable
        ? ConnectorError.retryable('fetch_failed', message, { status: res.status })
        : ConnectorError.fatal('fetch_failed', message, { status: res.status });
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await res.body.cancel();
      throw ConnectorError.fatal(
        'file_too_large',
        `files.put: the URL's file has ${declared} bytes, over ${maxBytes}`,
      );
    }
    const contentType = input.contentType ?? res.headers.get('content-type') ?? undefined;
    return files.put({
      name: input.name,
      ...(contentType ? { contentType } : {}),
      body: res.body as unknown as AsyncIterable<Uint8Array>,
      maxBytes,
    });
  },
});
