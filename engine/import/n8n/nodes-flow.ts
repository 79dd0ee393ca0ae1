// The n8n core nodes (Set, IF, Filter, Switch, Stop and Error, Respond to Webhook) and those not expressible yet.
import { nodeCondition, switchOutputs } from './conditions.ts';
import { clip, isExpression, isProblem, Problem, toValue } from './expressions.ts';
import {
  type DataMap,
  fields,
  identity,
  isObject,
  type Mapper,
  type Mapping,
  type NodeContext,
  step,
  str,
  templates,
} from './node-kit.ts';
import { jsonBody } from './nodes-http.ts';

export function setNode(ctx: NodeContext): Mapping {
  const { parameters: p, typeVersion: v } = ctx.node;
  const options = isObject(p['options']) ? p['options'] : {};
  const dotNotation = options['dotNotation'] !== false;
  const entries: [string, unknown, string][] = [];
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
        entries.push([String(item['name'] ?? 'propertyName'), typed(type, raw), type]);
      }
    }
  } else {
    const mode = String(p['mode'] ?? 'manual');
    if (mode === 'raw') {
      const json = p['jsonOutput'];
      if (typeof json !== 'string') return new Problem('Set in JSON mode without JSON text');
      if (isExpression(json)) {
        // JSON text with {{ }} inside, read the way the HTTP Request node's JSON body is.
        const value = jsonBody(json, ctx);
        if (isProblem(value)) return value;
        if (!isObject(value)) return new Problem('Set in JSON mode with JSON that is not an object');
        return step('core.set', { value }, identity);
      }
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
      entries.push([String(item['name'] ?? ''), typed(type, raw ?? ''), type]);
    }
  }
  const value: Record<string, unknown> = {};
  for (const [name, raw, type] of entries) {
    if (name === '' || name.includes('{{'))
      return new Problem(`a field name "${clip(name, 40)}" cannot be set`);
    // A computed number or boolean stays one; n8n turns only a text field's expression into text.
    const t =
      type !== 'string' && typeof raw === 'string' && isExpression(raw)
        ? toValue(raw, ctx.resolve, ctx.note, false)
        : templates(raw, ctx);
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

export function ifNode(ctx: NodeContext): Mapping {
  const rule = nodeCondition(ctx.node.parameters, ctx.node.typeVersion, ctx.resolve);
  if (isProblem(rule)) return rule;
  return { kind: 'branch', outputs: [rule, { '!': rule }] };
}

export function filterNode(ctx: NodeContext): Mapping {
  const rule = nodeCondition(ctx.node.parameters, Math.max(ctx.node.typeVersion, 2), ctx.resolve);
  if (isProblem(rule)) return rule;
  return { kind: 'branch', outputs: [rule] };
}

export function switchNode(ctx: NodeContext): Mapping {
  const outputs = switchOutputs(ctx.node.parameters, ctx.node.typeVersion, ctx.resolve);
  if (isProblem(outputs)) return outputs;
  return { kind: 'branch', outputs };
}

export function stopAndError(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (p['errorType'] === 'errorObject')
    return new Problem('Stop and Error with an error object; give it a message');
  const message = templates(str(p['errorMessage'], 'stopped'), ctx);
  return step('core.fail', fields({ kind: 'fatal', code: 'n8n_stop_and_error', message }));
}

export function respondToWebhook(ctx: NodeContext): Mapping {
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

// --- Not translated yet ------------------------------------------------------------------

/** A node the importer does not translate yet, and the Atlas construct to write instead. */
const pending = (needs: string, what: string): Mapping =>
  new Problem(`${what} is not translated by the importer yet; write it as ${needs}`, needs);

export const PENDING: Record<string, Mapper> = {
  /** Versions 1 and 2 emit batches on their first output and need an IF on `noItemsLeft`. */
  splitInBatches: () => pending('forEach', 'a loop in batches (Split In Batches before version 3)'),
  itemLists: () => pending('forEach or a computed value', 'item list operations'),
  summarize: () => pending('a computed value (sum, length)', 'summarising items'),
};
