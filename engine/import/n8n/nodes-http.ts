// The n8n HTTP Request node: method, URL, headers, query, JSON body and credentials as an http.request step.
import { randomUUID } from 'node:crypto';
import { clip, isExpression, isProblem, Problem, toValue } from './expressions.ts';
import {
  type DataMap,
  fields,
  isObject,
  type Mapping,
  type NodeContext,
  secretName,
  step,
  templates,
} from './node-kit.ts';

// --- HTTP Request -----------------------------------------------------------------------

/** The keypairs of `{ parameters: [{ name, value }] }` (v3+) or `{ parameter: [...] }` (v1-v2). */
function pairs(v: unknown, ctx: NodeContext): Record<string, unknown> | Problem | undefined {
  if (!isObject(v)) return undefined;
  const list = (v['parameters'] ?? v['parameter']) as unknown;
  if (!Array.isArray(list)) return undefined;
  const out: Record<string, unknown> = {};
  for (const item of list) {
    if (!isObject(item)) continue;
    const name = item['name'];
    if (typeof name !== 'string' || name === '' || isExpression(name) || name.includes('{{'))
      return new Problem('a parameter whose name is an expression');
    const value = toValue(String(item['value'] ?? ''), ctx.resolve, ctx.note);
    if (isProblem(value)) return value;
    out[name] = value;
  }
  return out;
}

/** A JSON body as n8n writes it: literal JSON, or JSON text with `{{ }}` reads inside. */
export function jsonBody(text: unknown, ctx: NodeContext): unknown {
  if (isObject(text) || Array.isArray(text)) return templates(text, ctx);
  if (typeof text !== 'string') return new Problem('the JSON body is not text');
  const body = isExpression(text) ? text.slice(1) : text;
  const holes: string[] = [];
  // A marker no export can contain: a fresh random one per body.
  const HOLE = `@@${randomUUID()}@@`;
  const HOLES = new RegExp(`${HOLE}(\\d+)${HOLE}`, 'g');
  // Replace each {{ }} by a marker; a marker outside a JSON string becomes a whole string.
  let out = '';
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (isExpression(text) && body.startsWith('{{', i)) {
      const close = body.indexOf('}}', i + 2);
      if (close === -1) return new Problem('the JSON body opens {{ and never closes it');
      holes.push(body.slice(i, close + 2));
      const marker = `${HOLE}${holes.length - 1}${HOLE}`;
      out += inString ? marker : `"${marker}"`;
      i = close + 1;
      continue;
    }
    if (c === '\\' && inString) {
      out += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    out += c;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out);
  } catch {
    return new Problem('the JSON body is not JSON once its expressions are read as values', '$expr');
  }
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (v.includes('{{')) return new Problem(`the text "${clip(v)}" contains "{{"`);
      if (!v.includes(HOLE)) return v;
      const expr = `=${v.replace(HOLES, (_, n: string) => holes[Number(n)]!)}`;
      // A value that is one expression keeps its type (n8n inserts it bare); text stays text.
      const whole = new RegExp(`^${HOLE}\\d+${HOLE}$`).test(v);
      return toValue(expr, ctx.resolve, ctx.note, !whole);
    }
    if (Array.isArray(v)) {
      const arr = v.map(fill);
      return arr.find(isProblem) ?? arr;
    }
    if (isObject(v)) {
      const obj: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) {
        if (key.includes(HOLE) || key.includes('{{'))
          return new Problem('a JSON key computed by an expression');
        const f = fill(item);
        if (isProblem(f)) return f;
        obj[key] = f;
      }
      return obj;
    }
    return v;
  };
  return fill(parsed);
}

/** Credentials of an HTTP Request node, as headers reading tenant secrets. */
/** n8n's OAuth2 credential types → the Atlas OAuth provider whose token `auth: { integration }` sends. */
const INTEGRATIONS: Record<string, string> = {
  googleOAuth2Api: 'google',
  googleSheetsOAuth2Api: 'google',
  googleDriveOAuth2Api: 'google',
  googleCalendarOAuth2Api: 'google',
  gmailOAuth2: 'google',
  microsoftOAuth2Api: 'microsoft',
  microsoftOutlookOAuth2Api: 'microsoft',
  microsoftTeamsOAuth2Api: 'microsoft',
  microsoftExcelOAuth2Api: 'microsoft',
  linkedInOAuth2Api: 'linkedin',
  twitterOAuth2Api: 'x',
  facebookGraphApi: 'meta',
};

/**
 * The credentials of an HTTP Request node as `http.request`'s `auth`: named, never inlined,
 * added by the hub (the tenant's secret, or its connected account's token, sent only to the
 * hosts the provider manifest lists).
 */
function httpAuth(ctx: NodeContext): Record<string, unknown> | undefined | Problem {
  const p = ctx.node.parameters;
  const auth = String(p['authentication'] ?? 'none');
  if (auth === 'none') return undefined;
  const credName = (kind: string) => ctx.node.credentials[kind]?.name ?? kind;
  if (auth === 'genericCredentialType') {
    const kind = String(p['genericAuthType'] ?? '');
    if (kind === 'httpBearerAuth') {
      const name = ctx.secret(
        secretName(credName(kind)),
        `bearer token of n8n credential "${credName(kind)}"`,
      );
      return { bearer: name };
    }
    if (kind === 'httpHeaderAuth')
      return new Problem(
        `header credential "${credName(kind)}": its header name is not in the export; add auth: { header: { name: <name>, secret: ${secretName(credName(kind))} } }`,
      );
    return new Problem(
      `the ${kind || 'generic'} credential needs a computed header; store the header value as a secret and send it with auth: { header: ... }`,
    );
  }
  if (auth === 'predefinedCredentialType') {
    const kind = String(p['nodeCredentialType'] ?? '');
    const bearer: Record<string, string> = { stripeApi: 'STRIPE_SECRET_KEY', openAiApi: 'OPENAI_API_KEY' };
    if (bearer[kind])
      return { bearer: ctx.secret(bearer[kind]!, `n8n credential "${credName(kind)}" (${kind})`) };
    const provider = INTEGRATIONS[kind];
    if (provider) {
      ctx.integration(provider, `n8n credential "${credName(kind)}" (${kind})`);
      return { integration: provider };
    }
    return new Problem(`the ${kind} credential: call that provider through its Atlas connector instead`);
  }
  return new Problem(`authentication "${clip(auth, 30)}"`);
}

export function httpRequest(ctx: NodeContext): Mapping {
  const { parameters: p, typeVersion: v } = ctx.node;
  const options = isObject(p['options']) ? p['options'] : {};
  const method = String(p[v >= 3 ? 'method' : 'requestMethod'] ?? 'GET').toUpperCase();
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].includes(method))
    return new Problem(`the ${method} method`);
  const url = toValue(String(p['url'] ?? ''), ctx.resolve, ctx.note);
  if (isProblem(url)) return url;
  let headers: Record<string, unknown> | Problem | undefined;
  let query: Record<string, unknown> | Problem | undefined;
  let json: unknown;
  let fullResponse = false;
  if (v >= 3) {
    if (p['sendQuery'] === true) {
      if (p['specifyQuery'] === 'json')
        return new Problem('query parameters given as JSON; list them one by one');
      query = pairs(p['queryParameters'], ctx);
    }
    if (p['sendHeaders'] === true) {
      if (p['specifyHeaders'] === 'json') return new Problem('headers given as JSON; list them one by one');
      headers = pairs(p['headerParameters'], ctx);
    }
    if (p['sendBody'] === true) {
      const type = String(p['contentType'] ?? 'json');
      if (type !== 'json') return new Problem(`a ${type} body: Atlas http.request sends JSON bodies`);
      json =
        p['specifyBody'] === 'json' ? jsonBody(p['jsonBody'] ?? '{}', ctx) : pairs(p['bodyParameters'], ctx);
    }
    const response =
      isObject(options['response']) && isObject(options['response']['response'])
        ? options['response']['response']
        : {};
    if (response['neverError'] === true)
      return new Problem('"Never Error": list the statuses to accept in accept: [...]');
    if (response['responseFormat'] === 'file') return new Problem('a file response');
    fullResponse = response['fullResponse'] === true;
  } else {
    if (p['responseFormat'] === 'file') return new Problem('a file response');
    fullResponse = options['fullResponse'] === true;
    headers = pairs(p['headerParametersUi'], ctx);
    query = pairs(p['queryParametersUi'], ctx);
    if (p['jsonParameters'] === true) {
      if (p['bodyParametersJson'] !== undefined && p['bodyParametersJson'] !== '')
        json = jsonBody(p['bodyParametersJson'], ctx);
      if (p['headerParametersJson'] || p['queryParametersJson'])
        return new Problem('headers or query given as JSON; list them one by one');
    } else if (pairs(p['bodyParametersUi'], ctx) !== undefined) {
      if (String(options['bodyContentType'] ?? 'json') !== 'json')
        return new Problem('a form body: Atlas http.request sends JSON bodies');
      json = pairs(p['bodyParametersUi'], ctx);
    }
  }
  const auth = httpAuth(ctx);
  if (isProblem(auth)) return auth;
  if (isProblem(headers)) return headers;
  if (isProblem(query)) return query;
  if (isProblem(json)) return json;
  const allHeaders = { ...(headers ?? {}) };
  const timeout = Number(options['timeout']);
  const data: DataMap = fullResponse
    ? (path) => {
        const [first, ...rest] = path;
        if (first === 'body' || first === 'headers') return [first, ...rest];
        if (first === 'statusCode') return ['status', ...rest];
        return new Problem(`the field "${String(first)}" of a full HTTP response`);
      }
    : (path) => ['body', ...path];
  return step(
    'http.request',
    fields({
      method,
      url,
      headers: Object.keys(allHeaders).length > 0 ? allHeaders : undefined,
      auth,
      query: query && Object.keys(query).length > 0 ? query : undefined,
      json,
      timeout: Number.isInteger(timeout) && timeout > 0 ? `${timeout}ms` : undefined,
    }),
    data,
  );
}
