/** Server-Sent Events of the change feed, and the `types` filter of `GET /v1/events`. */
import { PassThrough } from 'node:stream';
import type { FeedEventRow } from '../../db/feed.ts';
import { matchesType } from '../../feed/events.ts';
import { publicEvent } from '../../feed/index.ts';
import { problem } from '../../problem.ts';
import type { ApiContext } from '../context.ts';

export const TYPE_PATTERN = `^(\\*|(run|job|integration|file|feed)\\.(\\*|[a-z_]{1,40})|kb\\.(\\*|document\\.(\\*|[a-z_]{1,40})))$`;
/** How often an open stream looks for new events, and sends a comment to keep proxies from closing it. */
const POLL_MS = 500;
const KEEPALIVE_MS = 15_000;

export function parseTypes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const types = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = types.find((t) => !new RegExp(TYPE_PATTERN).test(t));
  if (bad !== undefined)
    throw problem.badRequest(`types: "${bad}" is not an event type or pattern such as run.*`);
  return types.length > 0 ? types : undefined;
}

/** Server-Sent Events: every event after `after`, then new ones as they are recorded. */
export function stream(
  ctx: ApiContext,
  read: (afterId: number) => Promise<FeedEventRow[]>,
  after: number,
  types: string[] | undefined,
): void {
  const out = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('cache-control', 'no-store');
  ctx.set('x-accel-buffering', 'no');
  ctx.body = out;
  let cursor = after;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastWrite = Date.now();
  const close = () => {
    closed = true;
    clearTimeout(timer);
    out.end();
  };
  ctx.req.once('close', close);
  out.write('retry: 2000\n\n');
  // A server that stops accepting connections (shutdown) ends its streams: clients reconnect elsewhere.
  const server = (ctx.req.socket as { server?: { listening: boolean } }).server;
  const poll = async () => {
    if (server && !server.listening) {
      // Ended, and the connection with it, so that the shutdown need not wait for it.
      ctx.res.once('finish', () => ctx.req.socket.end());
      close();
    }
    if (closed) return;
    try {
      for (;;) {
        const rows = await read(cursor);
        for (const row of rows) {
          cursor = Number(row.id);
          if (types && !matchesType(types, row.type)) continue;
          out.write(`id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(publicEvent(row))}\n\n`);
          lastWrite = Date.now();
        }
        if (rows.length < 200 || closed) break;
      }
      if (Date.now() - lastWrite > KEEPALIVE_MS) {
        out.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
    } catch {
      // The database went away for a moment: the client keeps its place and reconnects.
      close();
      return;
    }
    if (!closed) timer = setTimeout(() => void poll(), POLL_MS);
  };
  void poll();
}
