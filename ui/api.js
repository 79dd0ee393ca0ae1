// The API client of the console: every call carries the session's token and tenant. A 401
// ends the session (the token expired or was refused); other errors carry the problem's detail.
import { signal } from '@preact/signals';

const KEY = 'atlas.session';

/** { token, tenants, tenant, sub } or null; kept in session storage (gone with the tab). */
export const session = signal(readSession());
export const notice = signal('');

function readSession() {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function claimsOf(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('This is not a JWT: it has no payload part.');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json);
}

export function signIn(token, tenant) {
  let claims;
  try {
    claims = claimsOf(token);
  } catch {
    throw new Error('This is not an API token: paste the whole JWT (three parts separated by dots).');
  }
  const tenants = Array.isArray(claims.tenants) ? claims.tenants.filter((t) => typeof t === 'string') : [];
  if (tenants.length === 0)
    throw new Error('This token grants no tenant: mint one with `atlas token --tenant <id>`.');
  const chosen = tenant && tenants.includes(tenant) ? tenant : tenants[0];
  const value = { token, tenants, tenant: chosen, sub: String(claims.sub ?? '') };
  sessionStorage.setItem(KEY, JSON.stringify(value));
  notice.value = '';
  session.value = value;
}

export function switchTenant(tenant) {
  const value = { ...session.value, tenant };
  sessionStorage.setItem(KEY, JSON.stringify(value));
  session.value = value;
}

export function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  notice.value = message;
  session.value = null;
}

export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the API as the session's tenant (a FormData body goes as multipart); resolves to the JSON (or text) answer. */
export async function api(method, path, body) {
  const s = session.value;
  if (!s) throw new ApiError(401, 'Sign in first.');
  const headers = { authorization: `Bearer ${s.token}`, 'x-tenant-id': s.tenant };
  const init = { method, headers };
  if (body instanceof FormData) {
    init.body = body; // multipart: the browser writes the content type with its boundary
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'Atlas does not answer: is `npm start` still running?');
  }
  if (res.status === 401) {
    signOut('Your session has ended (the token expired or was refused): sign in again.');
    throw new ApiError(401, 'Sign in again.');
  }
  const type = res.headers.get('content-type') ?? '';
  const payload = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const detail = typeof payload === 'object' && payload ? payload.detail || payload.title : String(payload);
    throw new ApiError(res.status, detail || `The API answered ${res.status}.`, payload);
  }
  return payload;
}

/** A query string from the defined values of an object. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Follows the tenant's change feed (`GET /v1/events` as Server-Sent Events, read with fetch so
 * that the token goes in a header, which EventSource cannot do). Reconnects after a cut with
 * the last event's id; `onEvent(event)` gets each event once in order per entity. Resolves
 * with false at once when the feed is off (the caller polls instead); `stop()` ends it.
 */
export function followEvents(after, onEvent, onState = () => {}) {
  const controller = new AbortController();
  let last = after;
  let stopped = false;
  const ready = new Promise((resolve) => {
    const connect = async () => {
      while (!stopped) {
        const s = session.value;
        if (!s) return resolve(false);
        try {
          const res = await fetch(`/v1/events?types=${encodeURIComponent('run.*,feed.gap')}`, {
            headers: {
              authorization: `Bearer ${s.token}`,
              'x-tenant-id': s.tenant,
              accept: 'text/event-stream',
              ...(last ? { 'last-event-id': String(last) } : {}),
            },
            signal: controller.signal,
          });
          if (!res.ok || !res.body) return resolve(false);
          resolve(true);
          onState('live');
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end = buffer.indexOf('\n\n');
            while (end >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const lines = block.split('\n');
              const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
              const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
              if (id) last = id;
              if (data) onEvent(JSON.parse(data));
              end = buffer.indexOf('\n\n');
            }
          }
        } catch {
          if (stopped) return resolve(false);
        }
        onState('reconnecting');
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    connect();
  });
  return {
    ready,
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}
