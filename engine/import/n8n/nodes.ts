import { randomUUID } from 'node:crypto';
// One function per n8n node type: what Atlas construct it becomes. A mapping is a step, a
// branch (IF, Filter, Switch: conditions on the steps after it), a pass-through, a merge (as
// `needs`), the webhook route's response, or a Problem that becomes an explicit failing step.
import { nodeCondition, switchOutputs } from './conditions.ts';
import type { N8nNode } from './export.ts';
import {
  clip,
  isExpression,
  isProblem,
  type Path,
  Problem,
  type Resolver,
  toTemplate,
  toTemplates,
} from './expressions.ts';

/** Maps a path inside the n8n item json of a node to a path inside its Atlas step output. */
export type DataMap = (path: Path) => Path | Problem | 'parent';

export type Mapping =
  | { kind: 'step'; uses: string; with: Record<string, unknown>; data?: DataMap; comment?: string }
  | { kind: 'branch'; outputs: unknown[] }
  | { kind: 'pass' }
  | { kind: 'merge' }
  | { kind: 'response'; status: number; body: unknown }
  | Problem;

export interface NodeContext {
  node: N8nNode;
  resolve: Resolver;
  /** Records a tenant secret the workflow needs; returns its name. */
  secret(name: string, why: string): string;
  integration(provider: string, why: string): void;
  note(text: string): void;
  /** The nodes attached to this one through an `ai_*` connection (LangChain sub-nodes). */
  attached(kind: string): N8nNode[];
}

type Mapper = (ctx: NodeContext) => Mapping;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown, fallback = ''): unknown => (v === undefined || v === null ? fallback : v);

/** `n8n-nodes-base.httpRequest` → `httpRequest`; `@n8n/n8n-nodes-langchain.agent` → `langchain.agent`. */
export function shortType(type: string): string {
  const [pkg = '', name = ''] = [type.slice(0, type.lastIndexOf('.')), type.slice(type.lastIndexOf('.') + 1)];
  if (pkg === 'n8n-nodes-base') return name;
  if (pkg === '@n8n/n8n-nodes-langchain') return `langchain.${name}`;
  return type;
}

/** A secret name from an n8n credential's name: `My API token` → `MY_API_TOKEN`. */
export function secretName(credential: string): string {
  const base = credential
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase()
    .slice(0, 100);
  return /^[A-Z]/.test(base) ? base : `N8N_${base || 'CREDENTIAL'}`;
}

/** A resource locator (`{ __rl: true, value, mode }`, n8n 1.x) or a plain value. */
function locatorValue(v: unknown): unknown {
  return isObject(v) && '__rl' in v ? v['value'] : v;
}

function templates(value: unknown, ctx: NodeContext): unknown {
  return toTemplates(value, ctx.resolve);
}

/** Drops undefined fields; returns the first Problem among the values instead, if any. */
function fields(entries: Record<string, unknown>): Record<string, unknown> | Problem {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (isProblem(value)) return value;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function step(
  uses: string,
  input: Record<string, unknown> | Problem,
  data?: DataMap,
  comment?: string,
): Mapping {
  if (isProblem(input)) return input;
  return { kind: 'step', uses, with: input, ...(data ? { data } : {}), ...(comment ? { comment } : {}) };
}

/** A list of email addresses from n8n's comma-separated text. */
function emailList(value: unknown, ctx: NodeContext): unknown {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return new Problem('the recipients are not text');
  if (isExpression(value)) {
    const one = toTemplate(value, ctx.resolve);
    if (isProblem(one)) return one;
    if (value.includes(','))
      return new Problem('recipients built by an expression cannot be split into a list');
    return [one];
  }
  return value
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const identity: DataMap = (path) => path;

/** Only the fields an action's output schema declares can be read by later steps. */
const declared =
  (what: string, fields: string[]): DataMap =>
  (path) =>
    fields.includes(String(path[0]))
      ? path
      : new Problem(
          `Atlas's ${what} declares only ${fields.join(', ')} in its output; read those, or fetch the object again`,
        );

// --- Core nodes -----------------------------------------------------------------------

function setNode(ctx: NodeContext): Mapping {
  const { parameters: p, typeVersion: v } = ctx.node;
  const options = isObject(p['options']) ? p['options'] : {};
  const dotNotation = options['dotNotation'] !== false;
  const entries: [string, unknown][] = [];
  let includeOthers: boolean;
  if (v < 3) {
    includeOthers = p['keepOnlySet'] !== true;
    const values = isObject(p['values']) ? p['values'] : {};
    for (const type of ['string', 'number', 'boolean']) {
      const list = values[type];
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (!isObject(item)) continue;
        const raw = item['value'] ?? (type === 'string' ? '' : type === 'number' ? 0 : false);
        entries.push([String(item['name'] ?? 'propertyName'), typed(type, raw)]);
      }
    }
  } else {
    const mode = String(p['mode'] ?? 'manual');
    if (mode === 'raw') {
      const json = p['jsonOutput'];
      if (typeof json !== 'string' || isExpression(json))
        return new Problem(
          'Set in JSON mode with an expression; list the fields one by one instead',
          '$expr',
        );
      try {
        return step('core.set', { value: templates(JSON.parse(json), ctx) }, identity);
      } catch {
        return new Problem('Set in JSON mode holds text that is not JSON');
      }
    }
    includeOthers = v >= 3.3 ? p['includeOtherFields'] === true : String(p['include'] ?? 'none') === 'all';
    if (v >= 3.3 && includeOthers && String(p['include'] ?? 'all') !== 'all')
      return new Problem('Set keeps only some of the input fields; list them explicitly');
    const list =
      v >= 3.3
        ? isObject(p['assignments']) && Array.isArray(p['assignments']['assignments'])
          ? p['assignments']['assignments']
          : []
        : isObject(p['fields']) && Array.isArray(p['fields']['values'])
          ? p['fields']['values']
          : [];
    for (const item of list) {
      if (!isObject(item)) continue;
      const type = String(item['type'] ?? 'stringValue').replace(/Value$/, '');
      const raw = v >= 3.3 ? item['value'] : item[`${type}Value`];
      entries.push([String(item['name'] ?? ''), typed(type, raw ?? '')]);
    }
  }
  const value: Record<string, unknown> = {};
  for (const [name, raw] of entries) {
    if (name === '' || name.includes('{{'))
      return new Problem(`a field name "${clip(name, 40)}" cannot be set`);
    const t = templates(raw, ctx);
    if (isProblem(t)) return t;
    const path = dotNotation ? name.split('.') : [name];
    if (path.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype'))
      return new Problem(`the field name "${clip(name, 40)}" cannot be set`);
    let target = value;
    for (const key of path.slice(0, -1)) {
      if (!isObject(target[key])) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path.at(-1)!] = t;
  }
  const own = new Set(Object.keys(value));
  const data: DataMap = (path) =>
    own.has(String(path[0]))
      ? path
      : includeOthers
        ? 'parent'
        : new Problem(`"${ctx.node.name}" does not set the field "${String(path[0])}"`);
  return step(
    'core.set',
    { value },
    data,
    includeOthers ? 'n8n kept the other input fields: later steps read them from the step before' : undefined,
  );
}

function typed(type: string, raw: unknown): unknown {
  if (isExpression(raw)) return raw;
  if (type === 'number' && typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw)))
    return Number(raw);
  if (type === 'boolean' && typeof raw === 'string') return raw === 'true';
  if ((type === 'object' || type === 'array') && typeof raw === 'string') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function ifNode(ctx: NodeContext): Mapping {
  const rule = nodeCondition(ctx.node.parameters, ctx.node.typeVersion, ctx.resolve);
  if (isProblem(rule)) return rule;
  return { kind: 'branch', outputs: [rule, { '!': rule }] };
}

function filterNode(ctx: NodeContext): Mapping {
  const rule = nodeCondition(ctx.node.parameters, Math.max(ctx.node.typeVersion, 2), ctx.resolve);
  if (isProblem(rule)) return rule;
  return { kind: 'branch', outputs: [rule] };
}

function switchNode(ctx: NodeContext): Mapping {
  const outputs = switchOutputs(ctx.node.parameters, ctx.node.typeVersion, ctx.resolve);
  if (isProblem(outputs)) return outputs;
  return { kind: 'branch', outputs };
}

function stopAndError(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (p['errorType'] === 'errorObject')
    return new Problem('Stop and Error with an error object; give it a message');
  const message = templates(str(p['errorMessage'], 'stopped'), ctx);
  return step('core.fail', fields({ kind: 'fatal', code: 'n8n_stop_and_error', message }));
}

function respondToWebhook(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const options = isObject(p['options']) ? p['options'] : {};
  const status = Number(options['responseCode'] ?? 200);
  if (!(status >= 200 && status <= 299))
    return new Problem(`a ${status} answer: Atlas webhook routes answer 2xx once the event is accepted`);
  const respondWith = String(
    p['respondWith'] ?? (ctx.node.typeVersion >= 1.1 ? 'allIncomingItems' : 'firstIncomingItem'),
  );
  if (respondWith === 'noData') return { kind: 'response', status, body: null };
  if (respondWith === 'text' || respondWith === 'json') {
    const body = p['responseBody'];
    if (typeof body !== 'string' || isExpression(body))
      return new Problem(
        'an answer computed from the run; Atlas answers webhooks before the run, with a fixed body',
      );
    if (respondWith === 'text') return { kind: 'response', status, body };
    try {
      return { kind: 'response', status, body: JSON.parse(body) };
    } catch {
      return new Problem('the JSON answer is not valid JSON');
    }
  }
  return new Problem(
    "an answer made of the run's items; Atlas answers webhooks before the run, with a fixed body",
  );
}

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
    const value = toTemplate(String(item['value'] ?? ''), ctx.resolve);
    if (isProblem(value)) return value;
    out[name] = value;
  }
  return out;
}

/** A JSON body as n8n writes it: literal JSON, or JSON text with `{{ }}` reads inside. */
function jsonBody(text: unknown, ctx: NodeContext): unknown {
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
      return toTemplate(expr, ctx.resolve);
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
function httpAuth(ctx: NodeContext): Record<string, string> | Problem {
  const p = ctx.node.parameters;
  const auth = String(p['authentication'] ?? 'none');
  if (auth === 'none') return {};
  const credName = (kind: string) => ctx.node.credentials[kind]?.name ?? kind;
  if (auth === 'genericCredentialType') {
    const kind = String(p['genericAuthType'] ?? '');
    if (kind === 'httpBearerAuth') {
      const name = ctx.secret(
        secretName(credName(kind)),
        `bearer token of n8n credential "${credName(kind)}"`,
      );
      return { authorization: `Bearer {{ secrets.${name} }}` };
    }
    if (kind === 'httpHeaderAuth')
      return new Problem(
        `header credential "${credName(kind)}": its header name is not in the export; add headers: { <name>: "{{ secrets.${secretName(credName(kind))} }}" }`,
      );
    return new Problem(
      `the ${kind || 'generic'} credential needs a computed header; store the header value as a secret and send it in headers`,
    );
  }
  if (auth === 'predefinedCredentialType') {
    const kind = String(p['nodeCredentialType'] ?? '');
    const bearer: Record<string, string> = { stripeApi: 'STRIPE_SECRET_KEY', openAiApi: 'OPENAI_API_KEY' };
    if (bearer[kind]) {
      const name = ctx.secret(bearer[kind]!, `n8n credential "${credName(kind)}" (${kind})`);
      return { authorization: `Bearer {{ secrets.${name} }}` };
    }
    return new Problem(`the ${kind} credential: call that provider through its Atlas connector instead`);
  }
  return new Problem(`authentication "${clip(auth, 30)}"`);
}

function httpRequest(ctx: NodeContext): Mapping {
  const { parameters: p, typeVersion: v } = ctx.node;
  const options = isObject(p['options']) ? p['options'] : {};
  const method = String(p[v >= 3 ? 'method' : 'requestMethod'] ?? 'GET').toUpperCase();
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].includes(method))
    return new Problem(`the ${method} method`);
  const url = toTemplate(String(p['url'] ?? ''), ctx.resolve);
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
  const allHeaders = { ...(headers ?? {}), ...auth };
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
      query: query && Object.keys(query).length > 0 ? query : undefined,
      json,
      timeout: Number.isInteger(timeout) && timeout > 0 ? `${timeout}ms` : undefined,
    }),
    data,
  );
}

// --- Provider nodes ---------------------------------------------------------------------

function telegram(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const resource = String(p['resource'] ?? 'message');
  const operation = String(p['operation'] ?? 'sendMessage');
  if (resource !== 'message' || operation !== 'sendMessage')
    return new Problem(
      `Telegram ${resource} ${operation}; Atlas has telegram.sendMessage, sendDocument (as a file, not binary data) and setWebhook`,
    );
  ctx.secret(
    'TELEGRAM_BOT_TOKEN',
    `the bot token of n8n credential "${ctx.node.credentials['telegramApi']?.name ?? 'telegramApi'}"`,
  );
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  if (extra['reply_markup'] !== undefined || (p['replyMarkup'] !== undefined && p['replyMarkup'] !== 'none'))
    return new Problem('a reply keyboard; send it with http.request to the Bot API');
  if (ctx.node.typeVersion >= 1.1 && extra['appendAttribution'] !== false)
    ctx.note(
      `"${ctx.node.name}": n8n appended "This message was sent automatically with n8n"; Atlas sends the text as written`,
    );
  const input = fields({
    chat_id: templates(p['chatId'] ?? '', ctx),
    text: templates(p['text'] ?? '', ctx),
    parse_mode: extra['parse_mode'],
    disable_notification: extra['disable_notification'],
    reply_to_message_id: extra['reply_to_message_id'],
    message_thread_id: extra['message_thread_id'],
  });
  const data: DataMap = (path) => {
    const key = path.join('.');
    if (key === 'result.message_id') return ['message_id'];
    if (key === 'result.chat.id') return ['chat_id'];
    if (key === 'result.date') return ['date'];
    return new Problem(
      `the Telegram answer field "${clip(key, 40)}" (Atlas outputs message_id, chat_id and date)`,
    );
  };
  return step('telegram.sendMessage', input, data);
}

function stripe(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const resource = String(p['resource'] ?? 'balance');
  const operation = String(p['operation'] ?? 'get');
  ctx.secret(
    'STRIPE_SECRET_KEY',
    `n8n credential "${ctx.node.credentials['stripeApi']?.name ?? 'stripeApi'}"`,
  );
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  if (resource === 'customer' && operation === 'create') {
    const known = new Set(['email', 'phone', 'description', 'metadata']);
    const unknown = Object.keys(extra).filter((k) => !known.has(k));
    if (unknown.length > 0) return new Problem(`customer fields ${unknown.join(', ')}`);
    let metadata: unknown;
    if (isObject(extra['metadata']) && Array.isArray(extra['metadata']['metadataProperties'])) {
      const m: Record<string, unknown> = {};
      for (const item of extra['metadata']['metadataProperties'])
        if (isObject(item)) m[String(item['key'])] = item['value'];
      metadata = templates(m, ctx);
    }
    return step(
      'stripe.customers.create',
      fields({
        name: templates(p['name'], ctx),
        email: templates(extra['email'], ctx),
        phone: templates(extra['phone'], ctx),
        description: templates(extra['description'], ctx),
        metadata,
      }),
      declared('stripe.customers.create', ['id', 'object']),
    );
  }
  if (resource === 'customer' && operation === 'get')
    return step(
      'stripe.customers.retrieve',
      fields({ id: templates(p['customerId'] ?? '', ctx) }),
      declared('stripe.customers.retrieve', ['id', 'object']),
    );
  return new Problem(
    `Stripe ${resource} ${operation}; Atlas has customers, payment intents, refunds, checkout sessions and invoices`,
  );
}

function outlook(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const resource = String(p['resource'] ?? 'message');
  const operation = String(p['operation'] ?? (ctx.node.typeVersion >= 2 ? 'send' : 'get'));
  if (resource !== 'message' || operation !== 'send') return new Problem(`Outlook ${resource} ${operation}`);
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  ctx.note(
    'Outlook mail goes through the platform app: the operator assigns the sending mailbox to the tenant',
  );
  const type = String(extra['bodyContentType'] ?? p['bodyContentType'] ?? 'Text');
  return step(
    'msgraph.outlook.sendMail',
    fields({
      to: emailList(p['toRecipients'], ctx),
      cc: emailList(extra['ccRecipients'], ctx),
      bcc: emailList(extra['bccRecipients'], ctx),
      subject: templates(p['subject'] ?? '', ctx),
      body: templates(p['bodyContent'] ?? '', ctx),
      contentType: type.toLowerCase() === 'html' ? 'HTML' : 'Text',
    }),
  );
}

function teams(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const resource = String(p['resource'] ?? 'channel');
  const operation = String(p['operation'] ?? 'create');
  if (resource !== 'channelMessage' || operation !== 'create')
    return new Problem(`Teams ${resource} ${operation}`);
  ctx.integration('microsoft', 'posting to Teams channels');
  return step(
    'msgraph.teams.postMessage',
    fields({
      teamId: templates(locatorValue(p['teamId']), ctx),
      channelId: templates(locatorValue(p['channelId']), ctx),
      text: templates(p['message'] ?? '', ctx),
      contentType: String(p['messageType'] ?? p['contentType'] ?? 'text') === 'html' ? 'html' : 'text',
    }),
  );
}

function googleCalendar(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const resource = String(p['resource'] ?? 'event');
  const operation = String(p['operation'] ?? 'create');
  if (resource !== 'event' || operation !== 'create')
    return new Problem(`Google Calendar ${resource} ${operation}`);
  ctx.integration('google', 'Google Calendar');
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  const attendees = Array.isArray(extra['attendees'])
    ? extra['attendees'].flatMap((a) => (typeof a === 'string' ? a.split(',') : []))
    : undefined;
  return step(
    'google.calendar.insertEvent',
    fields({
      calendarId: templates(locatorValue(p['calendar']) ?? 'primary', ctx),
      summary: templates(extra['summary'] ?? '', ctx),
      description: templates(extra['description'], ctx),
      location: templates(extra['location'], ctx),
      start: fields({ dateTime: templates(p['start'], ctx) }),
      end: fields({ dateTime: templates(p['end'], ctx) }),
      attendees: attendees
        ? templates(
            attendees.map((a) => a.trim()),
            ctx,
          )
        : undefined,
    }),
    identity,
  );
}

function googleDrive(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const operation = String(p['operation'] ?? 'upload');
  if (operation === 'list' || (p['resource'] === 'fileFolder' && operation === 'search')) {
    ctx.integration('google', 'Google Drive');
    const query = p['queryString'] ?? (isObject(p['filter']) ? undefined : undefined);
    return step(
      'google.drive.listFiles',
      fields({ q: query === undefined ? undefined : templates(query, ctx) }),
    );
  }
  return new Problem(`Google Drive ${operation} (binary data); Atlas uploads files given as content`);
}

function emailSend(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const format = String(p['emailFormat'] ?? (ctx.node.typeVersion >= 2 ? 'html' : 'text'));
  ctx.note(
    'mail goes through Microsoft Graph or Resend, not the n8n SMTP credential: set RESEND_API_KEY or the Graph mailboxes',
  );
  const legacy = ctx.node.typeVersion < 2;
  const text = legacy ? p['text'] : format === 'text' || format === 'both' ? p['text'] : undefined;
  const html = legacy ? p['html'] : format === 'html' || format === 'both' ? p['html'] : undefined;
  return step(
    'email.send',
    fields({
      from: templates(p['fromEmail'], ctx),
      to: emailList(p['toEmail'], ctx),
      cc: emailList(p['ccEmail'], ctx),
      bcc: emailList(p['bccEmail'], ctx),
      subject: templates(p['subject'] ?? '', ctx),
      text: text === undefined || text === '' ? undefined : templates(text, ctx),
      html:
        html === undefined || html === ''
          ? text
            ? undefined
            : templates(html ?? '', ctx)
          : templates(html, ctx),
    }),
  );
}

function social(network: 'x' | 'linkedin'): Mapper {
  return (ctx) => {
    const p = ctx.node.parameters;
    const operation = String(p['operation'] ?? 'create');
    const resource = String(p['resource'] ?? (network === 'x' ? 'tweet' : 'post'));
    if (operation !== 'create' || (resource !== 'tweet' && resource !== 'post'))
      return new Problem(
        `${network === 'x' ? 'X' : 'LinkedIn'} ${resource} ${operation}; Atlas publishes posts only`,
      );
    ctx.integration(network, network === 'x' ? 'posting to X' : 'posting to LinkedIn');
    const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
    if (network === 'linkedin') {
      const postAs = String(p['postAs'] ?? 'person');
      const who = postAs === 'organization' ? p['organization'] : p['person'];
      if (typeof who !== 'string' || isExpression(who))
        return new Problem('a LinkedIn author given by an expression');
      if (String(p['shareMediaCategory'] ?? 'NONE') === 'IMAGE')
        return new Problem('a LinkedIn image post (binary data)');
      return step(
        'social.publish',
        fields({
          network,
          text: templates(p['text'] ?? '', ctx),
          author: `urn:li:${postAs === 'organization' ? 'organization' : 'person'}:${who}`,
          linkUrl: templates(extra['originalUrl'], ctx),
        }),
      );
    }
    if (Object.keys(extra).length > 0) return new Problem(`tweet options ${Object.keys(extra).join(', ')}`);
    return step('social.publish', fields({ network, text: templates(p['text'] ?? '', ctx) }));
  };
}

function chatMessages(list: unknown, ctx: NodeContext): unknown {
  if (!Array.isArray(list)) return new Problem('the prompt has no messages');
  const out: unknown[] = [];
  for (const m of list) {
    if (!isObject(m)) continue;
    const content = templates(m['content'] ?? '', ctx);
    if (isProblem(content)) return content;
    out.push({ role: String(m['role'] ?? 'user'), content });
  }
  return out.length > 0 ? out : new Problem('the prompt has no messages');
}

function openAiLegacy(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (String(p['resource'] ?? 'text') !== 'chat' || String(p['operation'] ?? 'complete') !== 'complete')
    return new Problem(
      `OpenAI ${String(p['resource'] ?? 'text')} ${String(p['operation'] ?? 'complete')}; Atlas has openai.chat and openai.embeddings`,
    );
  ctx.secret('OPENAI_API_KEY', 'the OpenAI API key');
  const options = isObject(p['options']) ? p['options'] : {};
  const prompt = isObject(p['prompt']) ? p['prompt']['messages'] : undefined;
  return step(
    'openai.chat',
    fields({
      model: templates(p['model'] ?? 'gpt-3.5-turbo', ctx),
      messages: chatMessages(prompt, ctx),
      temperature: options['temperature'],
      max_tokens: options['maxTokens'],
    }),
    (path) =>
      path.join('.') === 'message.content'
        ? ['content']
        : new Problem('an OpenAI answer field other than message.content'),
  );
}

function openAiLangchain(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (String(p['resource'] ?? 'text') !== 'text' || String(p['operation'] ?? 'message') !== 'message')
    return new Problem(
      `OpenAI ${String(p['resource'] ?? 'text')} ${String(p['operation'] ?? 'message')}; Atlas has openai.chat and openai.embeddings`,
    );
  const options = isObject(p['options']) ? p['options'] : {};
  if (p['jsonOutput'] === true || (isObject(p['tools']) && Object.keys(p['tools']).length > 0))
    return new Problem('JSON output or tools; write an Agent manifest');
  ctx.secret('OPENAI_API_KEY', 'the OpenAI API key');
  const messages = isObject(p['messages']) ? p['messages']['values'] : undefined;
  return step(
    'openai.chat',
    fields({
      model: templates(locatorValue(p['modelId']) ?? 'gpt-4o-mini', ctx),
      messages: chatMessages(messages, ctx),
      temperature: options['temperature'],
      max_tokens: options['maxTokens'],
    }),
    (path) =>
      path.join('.') === 'message.content'
        ? ['content']
        : new Problem('an OpenAI answer field other than message.content'),
  );
}

/** An AI Agent or Basic LLM Chain with one OpenAI chat model and no tools or memory: one chat call. */
function agent(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (
    ctx.attached('ai_tool').length > 0 ||
    ctx.attached('ai_memory').length > 0 ||
    ctx.attached('ai_outputParser').length > 0
  )
    return new Problem(
      'an agent with tools, memory or an output parser: write an Agent manifest with those tools and call it with agent.run',
    );
  const models = ctx.attached('ai_languageModel');
  const model = models[0];
  if (models.length !== 1 || !model || shortType(model.type) !== 'langchain.lmChatOpenAi')
    return new Problem('a chat model other than one OpenAI model; write an Agent manifest for it');
  ctx.secret(
    'OPENAI_API_KEY',
    `the OpenAI key of n8n credential "${model.credentials['openAiApi']?.name ?? 'openAiApi'}"`,
  );
  const modelOptions = isObject(model.parameters['options']) ? model.parameters['options'] : {};
  const options = isObject(p['options']) ? p['options'] : {};
  const promptType = String(p['promptType'] ?? 'auto');
  const text = promptType === 'define' ? p['text'] : '={{ $json.chatInput }}';
  const user = templates(text ?? '', ctx);
  if (isProblem(user)) return user;
  const messages: unknown[] = [];
  const system = options['systemMessage'];
  if (typeof system === 'string' && system !== '') {
    const s = templates(system, ctx);
    if (isProblem(s)) return s;
    messages.push({ role: 'system', content: s });
  }
  messages.push({ role: 'user', content: user });
  return step(
    'openai.chat',
    fields({
      model: templates(locatorValue(model.parameters['model']) ?? 'gpt-4o-mini', ctx),
      messages,
      temperature: modelOptions['temperature'],
      max_tokens: modelOptions['maxTokens'],
    }),
    (path) =>
      path.join('.') === 'output' || path.join('.') === 'text'
        ? ['content']
        : new Problem('an agent answer field other than output'),
    `n8n ${shortType(ctx.node.type)} with ${model.name}: one chat completion`,
  );
}

// --- Not yet expressible ------------------------------------------------------------------

/** A node whose Atlas construct the workflow language does not have yet. */
const pending = (needs: string, what: string): Mapping =>
  new Problem(`${what}; it will map to ${needs} (not in the workflow language yet)`, needs);

// One function per node that waits for the language; each is replaced by its mapping once it exists.
/** → `forEach` over the input items, the loop body as its steps. */
const splitInBatches = (): Mapping => pending('forEach', 'a loop over items');
/** → `forEach` over the list field it splits. */
const splitOut = (): Mapping => pending('forEach', 'splitting a list into items');
/** → `forEach` (split) or computed values (sort, limit, concatenate). */
const itemLists = (): Mapping => pending('forEach', 'item list operations');
/** → `workflow.run` with the sub-workflow's id and its input. */
const executeWorkflow = (): Mapping => pending('workflow.run', 'a sub-workflow call');
/** → a durable wait (time), or a signal resumed by its webhook. */
const wait = (): Mapping => pending('wait', 'a wait');
/** → a computed value (`$expr`) over a step's list. */
const aggregate = (): Mapping => pending('$expr', 'aggregating items');
/** → a computed value (`$expr`) slicing a step's list. */
const limit = (): Mapping => pending('$expr', 'limiting items');
/** → a computed value (`$expr`) formatting or shifting a date. */
const dateTime = (): Mapping => pending('$expr', 'date arithmetic');
/** → a computed value (`$expr`) summing or counting a step's list. */
const summarize = (): Mapping => pending('$expr', 'summarising items');

const PENDING: Record<string, Mapper> = {
  splitInBatches,
  splitOut,
  itemLists,
  executeWorkflow,
  wait,
  aggregate,
  limit,
  dateTime,
  summarize,
};

const CODE: Record<string, string> = {
  code: 'JavaScript or Python code',
  function: 'JavaScript code',
  functionItem: 'JavaScript code',
};

export const MAPPERS: Record<string, { versions: [number, number]; map: Mapper }> = {
  set: { versions: [1, 3.4], map: setNode },
  if: { versions: [1, 2.2], map: ifNode },
  filter: { versions: [1, 2.2], map: filterNode },
  switch: { versions: [1, 3.2], map: switchNode },
  merge: { versions: [1, 3.1], map: () => ({ kind: 'merge' }) },
  noOp: {
    versions: [1, 1],
    map: () => ({ kind: 'step', uses: 'core.noop', with: {}, data: () => 'parent' }),
  },
  stopAndError: { versions: [1, 1], map: stopAndError },
  respondToWebhook: { versions: [1, 1.4], map: respondToWebhook },
  httpRequest: { versions: [1, 4.2], map: httpRequest },
  telegram: { versions: [1, 1.2], map: telegram },
  stripe: { versions: [1, 1], map: stripe },
  microsoftOutlook: { versions: [1, 2], map: outlook },
  microsoftTeams: { versions: [1, 2], map: teams },
  googleCalendar: { versions: [1, 1.3], map: googleCalendar },
  googleDrive: { versions: [1, 3], map: googleDrive },
  emailSend: { versions: [1, 2.1], map: emailSend },
  linkedIn: { versions: [1, 1], map: social('linkedin') },
  twitter: { versions: [1, 2], map: social('x') },
  openAi: { versions: [1, 1.1], map: openAiLegacy },
  'langchain.openAi': { versions: [1, 1.8], map: openAiLangchain },
  'langchain.agent': { versions: [1, 2.2], map: agent },
  'langchain.chainLlm': { versions: [1, 1.7], map: agent },
};

/** Maps one (non-trigger) node; a Problem names what to write instead. */
export function mapNode(ctx: NodeContext): Mapping {
  const type = shortType(ctx.node.type);
  const code = CODE[type];
  if (code)
    return new Problem(
      `${code} is not translated; write its result as a core.set step over templates, or as a connector action`,
    );
  const later = PENDING[type];
  if (later) return later(ctx);
  const mapper = MAPPERS[type];
  if (!mapper)
    return new Problem(
      'no Atlas connector for this node type; call its API with http.request or write a connector',
    );
  const [min, max] = mapper.versions;
  if (ctx.node.typeVersion < min || ctx.node.typeVersion > max)
    return new Problem(
      `version ${ctx.node.typeVersion} of this node is not known to the importer (it knows ${min} to ${max})`,
    );
  return mapper.map(ctx);
}
