/** Server-Sent Events of the change feed, and the `types` filter of `GET /v1/events`. */
import { PassThrough } from 'node:stream';
import type { FeedEventRow } from '../../db/feed.ts';
import { matchesType } from '../../feed/events.ts';
import { publicEvent } from '../../feed/index.ts';
import { problem } from '../../problem.ts';
import type { ApiContext } from '../context.ts';

export const TYPE_PATTERN = `^(\\*|(run|job|integration|file|feed)\\.(\\*|[a-z_]{1,40})|kb\\.(\\*|document\\.(\\*|[a-z_]{1,40})))$`;
/**
 * How often an open stream looks at its server and, without notifications, for new events;
 * how often it reads when notifications wake it (in case one was missed); and how often it
 * sends a comment to keep proxies from closing it.
 */
const TICK_MS = 500;
const FALLBACK_POLL_MS = 5000;
const KEEPALIVE_MS = 15_000;

/** What wakes a stream: its tenant's notifications (engine/feed/wake.ts). */
export interface StreamWake {
  readonly live: boolean;
  subscribe(wake: () => void): () => void;
}

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
  wake?: StreamWake,
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
  let lastRead = 0;
  let reading = false;
  let woken = false;
  const unsubscribe = wake?.subscribe(() => {
    woken = true;
    // A read in progress may have missed what woke it: the next tick reads again.
    if (!reading) {
      clearTimeout(timer);
      void tick();
    }
  });
  const close = () => {
    closed = true;
    clearTimeout(timer);
    unsubscribe?.();
    out.end();
  };
  // The response's close (the client went away, or the stream ended): the request's may fire
  // as soon as its empty body has been read.
  ctx.res.once('close', close);
  out.write('retry: 2000\n\n');
  // A server that stops accepting connections (shutdown) ends its streams: clients reconnect elsewhere.
  const server = (ctx.req.socket as { server?: { listening: boolean } }).server;
  const readNew = async () => {
    woken = false;
    lastRead = Date.now();
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
  };
  // Every tick checks the server and the keepalive; it reads the database only when woken,
  // when the fallback is due, or on every tick while notifications do not arrive.
  const tick = async () => {
    if (server && !server.listening) {
      // Ended, and the connection with it, so that the shutdown need not wait for it.
      ctx.res.once('finish', () => ctx.req.socket.end());
      close();
    }
    if (closed) return;
    reading = true;
    try {
      if (woken || !wake?.live || Date.now() - lastRead >= FALLBACK_POLL_MS) await readNew();
      if (Date.now() - lastWrite > KEEPALIVE_MS) {
        out.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
    } catch {
      // The database went away for a moment: the client keeps its place and reconnects.
      close();
      return;
    } finally {
      reading = false;
    }
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void tick(), woken ? 0 : TICK_MS);
  };
  void tick();
}
