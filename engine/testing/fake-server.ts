/**
 * A local fake provider: a real HTTP server on 127.0.0.1 (port 0) that records every request
 * and answers through a route function. Tests script one-off answers (a 429, a 401, a
 * hostile body) with `enqueue`, which wins over the route for the next request.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json(): unknown;
  header(name: string): string | undefined;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  /** Streams this many bytes with no content-length (a hostile huge body). */
  streamBytes?: number;
  /** Waits before answering (for timeout tests). */
  delayMs?: number;
}

export type Route = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  enqueue(...replies: FakeReply[]): void;
  close(): Promise<void>;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeReply {
  return { status, body, headers: { 'content-type': 'application/json', ...headers } };
}

/** Hostile answers every connector must survive with a clear ConnectorError. */
export const hostile = {
  invalidJson: (): FakeReply => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"ok": tru',
  }),
  huge: (bytes = 12 * 1024 * 1024): FakeReply => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    streamBytes: bytes,
  }),
  wrongShape: (): FakeReply => json(200, [1, 2, 3]),
  /** Valid JSON nested 8,000 levels deep: past Atlas's parse limit, and past the stack of
   * anything that walks it recursively. */
  tooDeep: (): FakeReply => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: `{"data":${'['.repeat(8000)}${']'.repeat(8000)}}`,
  }),
  html502: (): FakeReply => ({
    status: 502,
    headers: { 'content-type': 'text/html' },
    body: '<html>Bad Gateway</html>',
  }),
};

function record(method: string, rawUrl: string, headers: IncomingHttpHeaders, body: Buffer): RecordedRequest {
  const url = new URL(rawUrl, 'http://127.0.0.1');
  return {
    method,
    path: decodeURIComponent(url.pathname),
    query: url.searchParams,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: () => JSON.parse(body.toString('utf8')),
    header: (name) => {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

async function answer(res: ServerResponse, reply: FakeReply): Promise<void> {
  if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
  if (res.destroyed) return;
  res.writeHead(reply.status, reply.headers ?? {});
  if (reply.streamBytes !== undefined) {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let left = reply.streamBytes;
    while (left > 0 && !res.destroyed) {
      const ok = res.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      left -= chunk.length;
      if (!ok) await drainedOrClosed(res);
    }
    res.end();
    return;
  }
  const body = reply.body;
  if (body === undefined) res.end();
  else if (typeof body === 'string' || Buffer.isBuffer(body)) res.end(body);
  else res.end(JSON.stringify(body));
}

/**
 * Starts a fake provider on 127.0.0.1 (port 0). `host` another loopback address (127.0.0.2),
 * `port` a fixed one: two fakes on one port.
 */
export async function startFake(
  route: Route,
  at: { host?: string; port?: number } = {},
): Promise<FakeServer> {
  const host = at.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded = record(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks));
    requests.push(recorded);
    try {
      await answer(res, queue.shift() ?? (await route(recorded)));
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake failed: ${String(err)}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Waits for `drain` or `close`, removing both listeners either way (a long stream adds many). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** The name the connector test kit gives {@link startFake}. */
export const startFakeProvider = startFake;
