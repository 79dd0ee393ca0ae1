/**
 * The web console: the page built from `ui/` into `dist/ui` at install time (bin/build-dist.js),
 * served at `/` and `/ui/...` by the API's own process. The page is `index.html`; its assets
 * have content hashes in their names, so they are cached for a year and the page not at all.
 * A strict Content-Security-Policy allows only this origin's scripts and styles: nothing
 * inline, nothing from elsewhere, no framing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Next } from 'koa';

export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../dist/ui', import.meta.url));

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Asset names the build makes: `app-<hash>.js`, `app-<hash>.css`, `favicon.svg`. */
const ASSET = /^\/ui\/assets\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)+)$/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atlas: the console is not built</title></head>
<body><h1>The Atlas console is not built</h1>
<p>This copy of Atlas has no <code>dist/ui</code>: its install step did not run. Run
<code>npm run build</code> (or <code>npm install</code>) in the Atlas directory, then reload this page.</p>
<p>The API works without it: see <a href="/v1/openapi.json">/v1/openapi.json</a>.</p></body></html>`;

interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
}

export function serveUi(dir = DEFAULT_UI_DIR) {
  const cache = new Map<string, Asset>();
  const load = async (name: string): Promise<Asset | undefined> => {
    const hit = cache.get(name);
    if (hit) return hit;
    const file = path.join(dir, name);
    const body = await readFile(file).catch(() => undefined);
    if (!body) return undefined;
    const gzip = await readFile(`${file}.gz`).catch(() => undefined);
    const asset = { body, gzip };
    // The page is read again each time (a rebuild shows at once); hashed assets never change.
    if (name !== 'index.html') cache.set(name, asset);
    return asset;
  };

  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const p = ctx.path;
    const isPage = p === '/' || p === '/ui' || p === '/ui/' || /^\/ui\/[A-Za-z0-9/_-]*$/.test(p);
    const asset = ASSET.exec(p);
    if (!isPage && !asset && !p.startsWith('/ui/')) return next();
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('content-security-policy', UI_CSP);
    ctx.set('cross-origin-opener-policy', 'same-origin');
    const name = asset ? `assets/${asset[1]}` : isPage ? 'index.html' : undefined;
    const found = name === undefined ? undefined : await load(name);
    if (!found) {
      if (asset || !isPage) {
        ctx.status = 404;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.set('cache-control', 'no-store');
        ctx.body = 'Not found: this file is not part of the Atlas console.\n';
        return;
      }
      ctx.status = 503;
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('cache-control', 'no-store');
      ctx.body = NOT_BUILT;
      return;
    }
    ctx.type = TYPES[path.extname(name!)] ?? 'application/octet-stream';
    ctx.set('cache-control', asset ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.vary('accept-encoding');
    if (found.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('content-encoding', 'gzip');
      ctx.body = found.gzip;
    } else {
      ctx.body = found.body;
    }
  };
}
