// n8n trigger nodes as Atlas triggers (and the WebhookRoute a generic webhook needs).
import type { N8nNode } from './export.ts';
import { clip, type Path, Problem } from './expressions.ts';
import { shortType } from './nodes.ts';

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export interface MappedTrigger {
  trigger: Record<string, unknown>;
  /** A WebhookRoute to write beside the workflow (generic webhooks). */
  route?: Record<string, unknown>;
  /** Where the n8n trigger item's fields are in the run scope. */
  data: (path: Path) => Path | Problem;
  setup: string[];
  notes: string[];
  /** Set by Webhook nodes that answer from a Respond to Webhook node. */
  respondsWithNode?: boolean;
}

const TRIGGER_TYPES = new Set([
  'webhook',
  'scheduleTrigger',
  'cron',
  'interval',
  'manualTrigger',
  'start',
  'executeWorkflowTrigger',
  'errorTrigger',
  'telegramTrigger',
  'stripeTrigger',
]);

export function isTrigger(node: N8nNode): boolean {
  const type = shortType(node.type);
  return TRIGGER_TYPES.has(type) || /Trigger$/.test(type);
}

const opaque = (what: string) => () => new Problem(`the ${what} trigger's fields have no Atlas equivalent`);

/** Cron for one n8n Schedule Trigger interval rule. */
function scheduleRule(rule: Record<string, unknown>): string | Problem {
  const field = String(rule['field'] ?? 'days');
  const minute = Number(rule['triggerAtMinute'] ?? 0);
  const hour = Number(rule['triggerAtHour'] ?? 0);
  const every = (key: string) => Number(rule[key] ?? 1);
  const step = (n: number, unit: string) => (n === 1 ? '*' : `*/${n}`) + (unit ? '' : '');
  switch (field) {
    case 'minutes':
      return `${step(every('minutesInterval'), '')} * * * *`;
    case 'hours':
      return `${minute} ${step(every('hoursInterval'), '')} * * *`;
    case 'days':
      return `${minute} ${hour} ${step(every('daysInterval'), '')} * *`;
    case 'weeks': {
      if (every('weeksInterval') !== 1) return new Problem('a schedule every few weeks has no cron form');
      const days =
        Array.isArray(rule['triggerAtDay']) && rule['triggerAtDay'].length > 0 ? rule['triggerAtDay'] : [0];
      return `${minute} ${hour} * * ${days.map(Number).join(',')}`;
    }
    case 'months':
      return `${minute} ${hour} ${Number(rule['triggerAtDayOfMonth'] ?? 1)} ${step(every('monthsInterval'), '')} *`;
    case 'cronExpression': {
      const parts = String(rule['expression'] ?? '')
        .trim()
        .split(/\s+/);
      if (parts.length === 6 && parts[0] === '0') return parts.slice(1).join(' ');
      if (parts.length === 5) return parts.join(' ');
      return new Problem(
        `the cron expression "${clip(String(rule['expression']), 40)}" (Atlas cron has five fields, minute first)`,
      );
    }
    default:
      return new Problem(`a schedule every few ${field}: Atlas schedules have minute granularity`);
  }
}

/** Cron for one old Cron node `triggerTimes.item`. */
function cronItem(item: Record<string, unknown>): string | Problem {
  const minute = Number(item['minute'] ?? 0);
  const hour = Number(item['hour'] ?? 0);
  switch (String(item['mode'] ?? 'everyDay')) {
    case 'everyMinute':
      return '* * * * *';
    case 'everyHour':
      return `${minute} * * * *`;
    case 'everyDay':
      return `${minute} ${hour} * * *`;
    case 'everyWeek':
      return `${minute} ${hour} * * ${Number(item['weekday'] ?? 1)}`;
    case 'everyMonth':
      return `${minute} ${hour} ${Number(item['dayOfMonth'] ?? 1)} * *`;
    case 'everyX': {
      const value = Number(item['value'] ?? 2);
      return item['unit'] === 'hours' ? `0 */${value} * * *` : `*/${value} * * * *`;
    }
    case 'custom': {
      const parts = String(item['cronExpression'] ?? '')
        .trim()
        .split(/\s+/);
      if (parts.length === 6 && parts[0] === '0') return parts.slice(1).join(' ');
      if (parts.length === 5) return parts.join(' ');
      return new Problem('a cron expression with seconds');
    }
    default:
      return new Problem(`the Cron mode "${clip(String(item['mode']), 20)}"`);
  }
}

function schedule(node: N8nNode, timezone: string | undefined): MappedTrigger | Problem {
  const p = node.parameters;
  let rules: Record<string, unknown>[];
  let toCron: (r: Record<string, unknown>) => string | Problem;
  if (shortType(node.type) === 'cron') {
    const times =
      isObject(p['triggerTimes']) && Array.isArray(p['triggerTimes']['item'])
        ? p['triggerTimes']['item']
        : [{}];
    rules = times.filter(isObject);
    toCron = cronItem;
  } else if (shortType(node.type) === 'interval') {
    const n = Number(p['interval'] ?? 1);
    const unit = String(p['unit'] ?? 'seconds');
    rules = [{ field: unit, [`${unit}Interval`]: n }];
    toCron = scheduleRule;
  } else {
    const interval =
      isObject(p['rule']) && Array.isArray(p['rule']['interval']) ? p['rule']['interval'] : [{}];
    rules = interval.filter(isObject);
    toCron = scheduleRule;
  }
  if (rules.length !== 1)
    return new Problem(
      `${rules.length} schedule rules: an Atlas workflow has one cron line; split the workflow`,
    );
  const cron = toCron(rules[0]!);
  if (cron instanceof Problem) return cron;
  return {
    trigger: { type: 'schedule', cron },
    data: opaque('schedule'),
    setup: [],
    notes: [
      `Atlas schedules are UTC; n8n ran "${cron}" in ${timezone ? `the ${timezone} time zone` : "the instance's time zone"}`,
    ],
  };
}

/** A route id and path for a generic n8n webhook, unique within one import. */
function webhookRoute(node: N8nNode, taken: Set<string>): { id: string; path: string } {
  const raw = String(node.parameters['path'] ?? node.webhookId ?? 'hook');
  const slug =
    raw
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'hook';
  let id = `n8n-${slug}`.slice(0, 60);
  for (let n = 2; taken.has(id); n++) id = `n8n-${slug}`.slice(0, 55) + `-${n}`;
  taken.add(id);
  return { id, path: `/v1/webhooks/n8n/${id.slice(4)}` };
}

export function mapTrigger(
  node: N8nNode,
  opts: { timezone?: string; routes: Set<string>; errorSource?: string | Problem },
): MappedTrigger | Problem {
  const type = shortType(node.type);
  const p = node.parameters;
  switch (type) {
    case 'manualTrigger':
    case 'start':
      return { trigger: { type: 'manual' }, data: opaque('manual'), setup: [], notes: [] };
    case 'executeWorkflowTrigger':
      return {
        trigger: { type: 'manual' },
        data: (path) => ['input', ...path],
        setup: [],
        notes: [
          'started by another workflow in n8n: start it with workflow.run from that workflow, or through the API',
        ],
      };
    case 'scheduleTrigger':
    case 'cron':
    case 'interval':
      return schedule(node, opts.timezone);
    case 'errorTrigger': {
      if (opts.errorSource === undefined)
        return new Problem(
          'an Error Trigger that no imported workflow names as its error workflow; import them together',
        );
      if (opts.errorSource instanceof Problem) return opts.errorSource;
      return {
        trigger: { type: 'event', workflow: opts.errorSource, status: ['failed'] },
        data: opaque('error'),
        setup: [],
        notes: [],
      };
    }
    case 'stripeTrigger': {
      const events = Array.isArray(p['events']) ? p['events'].map(String) : ['*'];
      const trigger: Record<string, unknown> = { type: 'webhook', route: 'stripe' };
      if (!events.includes('*') && events.length > 0) trigger['events'] = [...new Set(events)].sort();
      return {
        trigger,
        data: (path) => ['trigger', 'body', ...path],
        setup: [
          'point a Stripe webhook endpoint at /v1/webhooks/stripe?tenantId=<tenant> and store its signing secret as STRIPE_WEBHOOK_SECRET',
        ],
        notes: [],
      };
    }
    case 'telegramTrigger': {
      const updates = Array.isArray(p['updates']) ? p['updates'].map(String) : ['*'];
      const trigger: Record<string, unknown> = { type: 'webhook', route: 'telegram' };
      if (!updates.includes('*') && updates.length > 0) {
        const bad = updates.find((u) => !/^[a-z_]+$/.test(u));
        if (bad) return new Problem(`the Telegram update type "${clip(bad, 30)}"`);
        const checks = updates.map((u) => ({ '!!': { var: `trigger.body.${u}` } }));
        trigger['if'] = checks.length === 1 ? checks[0] : { or: checks };
      }
      return {
        trigger,
        data: (path) => ['trigger', 'body', ...path],
        setup: [
          'register the bot webhook on /v1/telegram/webhook?tenantId=<tenant> with the secret_token from GET /v1/webhook-routes (telegram.setWebhook)',
        ],
        notes: [],
      };
    }
    case 'webhook': {
      const method = String(p['httpMethod'] ?? 'GET');
      if (method !== 'POST' && method !== 'PUT')
        return new Problem(`a ${method} webhook: Atlas webhook routes accept POST or PUT with a JSON body`);
      const mode = String(p['responseMode'] ?? 'onReceived');
      if (mode === 'lastNode')
        return new Problem(
          "a webhook that answers with the last node's data: Atlas answers before the run, with a fixed body",
        );
      const { id, path } = webhookRoute(node, opts.routes);
      const options = isObject(p['options']) ? p['options'] : {};
      const status = Number(p['responseCode'] ?? options['responseCode'] ?? 200);
      const route: Record<string, unknown> = {
        apiVersion: 'atlas/v1',
        kind: 'WebhookRoute',
        id,
        name: clip(`n8n webhook ${node.name}`, 120),
        path,
        method,
        verify: { method: 'standard-webhooks', secret: `${id.replace(/-/g, '_').toUpperCase()}_SECRET` },
        event: { id: 'headers.webhook-id' },
        tenant: { from: 'query.tenantId' },
        response: {
          status: status >= 200 && status <= 299 ? status : 200,
          body: { message: 'Workflow was started' },
        },
      };
      const auth = String(p['authentication'] ?? 'none');
      return {
        trigger: { type: 'webhook', route: id },
        route,
        data: (path) => {
          const [first, ...rest] = path;
          if (first === 'body' || first === 'query' || first === 'headers')
            return ['trigger', first, ...rest];
          return new Problem(
            `the webhook field "${clip(String(first), 30)}" (Atlas keeps body, query and headers)`,
          );
        },
        setup: [
          `senders sign each POST to ${path}?tenantId=<tenant> with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), keyed by the tenant secret ${(route['verify'] as { secret: string }).secret}${auth === 'none' ? '' : ` (this replaces n8n's ${auth})`}`,
        ],
        notes: [],
        ...(mode === 'responseNode' ? { respondsWithNode: true } : {}),
      };
    }
    default:
      return new Problem(
        `the trigger ${type} has no Atlas equivalent; use a webhook route, a schedule or a manual trigger`,
      );
  }
}
