// The n8n nodes about time: Wait (a durable sleep, a wait until a time, or a signal for
// "resume on webhook call") and Date & Time (computed values over `now`, `date_add` and
// `date_format`).
import { durationMs, durationText, msText } from './durations.ts';
import { isProblem, type Path, Problem, toLogic } from './expressions.ts';
import {
  type DataMap,
  isObject,
  type Mapping,
  type NodeContext,
  passThrough,
  step,
  templates,
} from './node-kit.ts';

/** n8n's Wait node: the items go on unchanged after a time, or become the resuming call's data. */
export function wait(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const resume = String(p['resume'] ?? 'timeInterval');
  if (resume === 'timeInterval') {
    const ms = durationMs(p['amount'] ?? 1, p['unit'] ?? 'hours');
    if (isProblem(ms)) return ms;
    if (!ctx.items) return step('core.sleep', { duration: msText(ms) }, passThrough);
    // A durable wait parks the whole run; per item of a loop, the wait happens inside the step.
    if (ms > 3_600_000)
      return new Problem('a wait of more than an hour per item of a loop; wait once, before the loop');
    return step('core.sleep', { ms }, passThrough);
  }
  if (resume === 'specificTime') {
    const until = templates(p['dateTime'] ?? '', ctx);
    if (isProblem(until)) return until;
    if (until === '') return new Problem('a wait until a time with no time set');
    ctx.note(`"${ctx.node.name}" waits until a time: give it with a time zone offset (Atlas reads ISO 8601)`);
    return step('core.waitUntil', { until }, passThrough);
  }
  if (resume === 'webhook') {
    if (String(p['incomingAuthentication'] ?? 'none') !== 'none')
      ctx.note(
        `"${ctx.node.name}" resumed on an authenticated webhook call; Atlas signals are sent with a tenant token`,
      );
    let timeout = '365d';
    if (p['limitWaitTime'] === true) {
      if (String(p['limitType'] ?? 'afterTimeInterval') !== 'afterTimeInterval')
        return new Problem('a wait for a call limited by a date; limit it by a time interval');
      const limit = durationText(p['resumeAmount'] ?? 1, p['resumeUnit'] ?? 'hours');
      if (isProblem(limit)) return limit;
      timeout = limit;
    } else ctx.note(`"${ctx.node.name}" waited for its call without a limit; Atlas waits at most 365 days`);
    ctx.note(
      `"${ctx.node.name}" resumes when POST /v1/runs/<run id>/signals/resume is sent with the JSON body n8n's resume call carried`,
    );
    // n8n's item is { headers, params, query, body }; the signal's payload is the body.
    const data: DataMap = (path: Path) =>
      path[0] === 'body'
        ? path.slice(1)
        : new Problem(`a signal carries only the JSON body of the resuming call, not "${String(path[0])}"`);
    const mapping = step('core.waitForSignal', { name: 'resume', timeout }, data);
    // n8n goes on with no call data when the limit passes.
    if (!isProblem(mapping) && mapping.kind === 'step' && p['limitWaitTime'] === true)
      mapping.extra = { onTimeout: { output: {} } };
    return mapping;
  }
  return new Problem(`a wait that resumes on "${resume}" (a form); Atlas has no forms`);
}

const DATE_UNITS: Record<string, string> = {
  milliseconds: 'ms',
  seconds: 's',
  minutes: 'm',
  hours: 'h',
  days: 'd',
};
const CALENDAR_UNITS: Record<string, string> = { weeks: 'W', months: 'M', quarters: 'M', years: 'Y' };

/** n8n's Date & Time node (version 2): one computed field, beside the input fields when asked. */
export function dateTime(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const options = isObject(p['options']) ? p['options'] : {};
  const operation = String(p['operation'] ?? 'getCurrentDate');
  const zone =
    typeof options['timezone'] === 'string' && options['timezone'] !== ''
      ? options['timezone']
      : ctx.timezone;
  let field: string;
  let rule: unknown;
  if (operation === 'getCurrentDate') {
    if (p['includeTime'] === false)
      return new Problem("today's date without a time; use a computed date_format");
    field = String(p['outputFieldName'] ?? 'currentDate');
    rule = { now: [] };
    ctx.note(`"${ctx.node.name}" reads the run's trigger time as now`);
  } else if (operation === 'addToDate' || operation === 'subtractFromDate') {
    field = String(p['outputFieldName'] ?? 'newDate');
    const date = toLogic(p['magnitude'] ?? '', ctx.resolve);
    if (isProblem(date)) return date;
    const amount = p['duration'] ?? 0;
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 0)
      return new Problem('an amount of time that is not a whole number (an expression); give a fixed amount');
    const unit = String(p['timeUnit'] ?? 'days');
    const sign = operation === 'subtractFromDate' ? '-' : '';
    const clock = DATE_UNITS[unit];
    const calendar = CALENDAR_UNITS[unit];
    let duration: string;
    if (clock) duration = `${sign}${amount}${clock}`;
    else if (calendar) duration = `${sign}P${unit === 'quarters' ? amount * 3 : amount}${calendar}`;
    else return new Problem(`the time unit "${unit}" is not one n8n has`);
    rule = { date_add: [date, duration] };
  } else if (operation === 'formatDate') {
    field = String(p['outputFieldName'] ?? 'formattedDate');
    const date = toLogic(p['date'] ?? '', ctx.resolve);
    if (isProblem(date)) return date;
    const format = String(p['format'] ?? 'MM/dd/yyyy');
    const pattern = format === 'custom' ? String(p['customFormat'] ?? '') : format;
    if (pattern === '' || pattern.startsWith('=') || pattern === 'X' || pattern === 'x')
      return new Problem('a date format computed by an expression or a Unix timestamp; give a Luxon format');
    if (options['fromFormat'] !== undefined && options['fromFormat'] !== '')
      return new Problem('a date read in a custom format; Atlas reads ISO 8601 dates');
    if (!zone)
      return new Problem(
        "the date is formatted in the n8n instance's time zone, which the export does not say; set the node's Timezone option",
      );
    rule = { date_format: [date, pattern, zone] };
  } else return new Problem(`the Date & Time operation "${operation}" has no Atlas computed value yet`);
  if (field === '' || field.includes('.') || field.includes('{{') || field.startsWith('='))
    return new Problem(`the output field name "${field}" cannot be set`);
  const keep = options['includeInputFields'] === true;
  const data: DataMap = (path) =>
    path[0] === field
      ? path
      : keep
        ? 'parent'
        : new Problem(`"${ctx.node.name}" outputs only the field "${field}"`);
  return step('core.set', { value: { [field]: { $expr: rule } } }, data);
}
