/**
 * Response bodies are read with a size cap: a provider (or a hostile endpoint) that streams
 * gigabytes must cost a bounded amount of memory and fail with a clear error.
 */
import { ConnectorError } from '../connector-sdk/index.ts';
import { DepthScanner, MAX_JSON_DEPTH } from '../json/limits.ts';

/** Default cap on a response body: 10 MiB, well above any JSON API answer we call. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export function tooLarge(limit: number): ConnectorError {
  return ConnectorError.fatal('response_too_large', `response body exceeds ${limit} bytes`);
}

/** Reads a whole body into memory, failing once it passes `limit` bytes. */
export async function readCapped(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(limit);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A JSON response nested deeper than Atlas parses (see engine/json/limits.ts). */
export function tooDeep(connectorId?: string): ConnectorError {
  const who = connectorId === undefined ? '' : `${connectorId}: `;
  return ConnectorError.invalidResponse(`${who}response JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
}

/**
 * Wraps a response so its body stream errors once it passes `limit` bytes, or, for a JSON
 * body, `MAX_JSON_DEPTH` levels of nesting. Used for the SDK-facing `fetch`, where the SDK,
 * not us, reads (and parses) the body.
 */
export function capResponse(response: Response, limit: number, connectorId?: string): Response {
  if (!response.body) return response;
  let total = 0;
  const json = /[/+]json\b/i.test(response.headers.get('content-type') ?? '');
  const depth = json ? new DepthScanner() : undefined;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > limit) controller.error(tooLarge(limit));
      else if (depth && !depth.feed(chunk)) controller.error(tooDeep(connectorId));
      else controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
