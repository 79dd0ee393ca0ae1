// A run's parts: the timeline of its steps, each step with its attempts, the items of a
// forEach step (`step[i]` in the ledger) grouped under it, and the runs it called.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { duration, Empty, Json, Status, Time } from './parts.js';

/** How many loop items a step shows at first, and adds per "Show more". */
const ITEMS_PAGE = 50;

const itemOf = (id) => {
  const match = /^(.+)\[(\d+)\]$/.exec(id);
  return match ? { stepId: match[1], index: Number(match[2]) } : undefined;
};

/**
 * The run's steps in workflow order, each with `items` (its loop items, by index) and
 * `calls` (the child runs its attempts started).
 */
export function groupSteps(run) {
  const ids = new Set(run.steps.map((s) => s.id));
  const top = [];
  const items = new Map();
  for (const s of run.steps) {
    const item = itemOf(s.id);
    if (item && ids.has(item.stepId)) {
      const list = items.get(item.stepId) ?? [];
      list.push({ ...s, index: item.index });
      items.set(item.stepId, list);
    } else top.push(s);
  }
  const calls = run.calls ?? [];
  return top.map((s) => ({
    ...s,
    items: (items.get(s.id) ?? []).sort((a, b) => a.index - b.index),
    calls: calls.filter((c) => c.stepId === s.id || itemOf(c.stepId)?.stepId === s.id),
  }));
}

function countByStatus(items) {
  const counts = new Map();
  for (const i of items) counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

/** The attempts of every step on one time axis: a bar per attempt, coloured by status. */
export function Timeline({ run, steps }) {
  const attempts = steps.flatMap((s) => s.attempts);
  if (attempts.length === 0) return html`<${Empty}>No step has started yet.<//>`;
  const time = (t) => new Date(t).getTime();
  const start = Math.min(time(run.createdAt), ...attempts.map((a) => time(a.startedAt)));
  const ends = attempts.map((a) => (a.finishedAt ? time(a.finishedAt) : Date.now()));
  const end = Math.max(...ends, run.finishedAt ? time(run.finishedAt) : 0, start + 1);
  const span = end - start;
  const pct = (t) => `${(((t - start) / span) * 100).toFixed(2)}%`;
  return html`<div class="gantt" role="list" aria-label="Timeline of step attempts">
    ${steps.map(
      (s) => html`<div class="gantt-row" role="listitem">
        <span class="gantt-label mono" title=${s.id}>${s.id}${s.items.length ? ` ×${s.items.length}` : ''}</span>
        <span class="gantt-track">
          ${s.attempts.map((a) => {
            const from = time(a.startedAt);
            const to = a.finishedAt ? time(a.finishedAt) : Date.now();
            const items = s.items.length ? `, ${s.items.length} items` : '';
            const label = `${s.id} attempt ${a.attempt}/${a.maxAttempts}: ${a.status}, ${duration(a.startedAt, a.finishedAt)}${items}`;
            return html`<span
              class=${`bar status-${a.status}`}
              style=${{ left: pct(from), width: `max(3px, ${(((to - from) / span) * 100).toFixed(2)}%)` }}
              title=${label}
              aria-label=${label}
            ></span>`;
          })}
        </span>
      </div>`,
    )}
    <div class="gantt-axis muted"><span>0</span><span>${duration(new Date(start).toISOString(), new Date(end).toISOString())}</span></div>
  </div>`;
}

export function Attempt({ a }) {
  return html`<div class="attempt">
    <h4>
      Attempt ${a.attempt}/${a.maxAttempts}${a.runAttempt > 1 ? ` (run attempt ${a.runAttempt})` : ''}
      <${Status} value=${a.status} />
      <span class="muted">${a.uses ?? ''} · <${Time} value=${a.startedAt} /> · ${duration(a.startedAt, a.finishedAt)}</span>
    </h4>
    ${a.skipReason ? html`<p>Skipped: ${a.skipReason}</p>` : null}
    ${a.retryAt && a.status !== 'waiting' ? html`<p>Retries at <${Time} value=${a.retryAt} /></p>` : null}
    ${a.retryAt && a.status === 'waiting' ? html`<p>Waits until <${Time} value=${a.retryAt} /></p>` : null}
    <${Json} label="Input (secrets redacted)" value=${a.input} />
    ${a.output !== undefined && a.output !== null ? html`<${Json} label="Output" value=${a.output} />` : null}
    ${a.error ? html`<${Json} label="Error" value=${a.error} />` : null}
  </div>`;
}

/** Links to the runs a step started (`workflow.run`). */
function Calls({ calls }) {
  if (!calls.length) return null;
  return html`<div class="calls">
    <h4>Child runs</h4>
    <ul>
      ${calls.map(
        (c) => html`<li data-child=${c.runId}>
          <${Status} value=${c.status} /> <a href=${`#/runs/${c.runId}`}>${c.workflowId} <span class="mono">${c.runId.slice(0, 8)}</span></a>
          ${itemOf(c.stepId) ? html` <span class="muted">from ${c.stepId}</span>` : null}
        </li>`,
      )}
    </ul>
  </div>`;
}

/** One loop item; its attempts are drawn only once it is opened, so a thousand items stay light. */
function Item({ step, item }) {
  const [open, setOpen] = useState(false);
  const last = item.attempts.at(-1);
  return html`<li>
    <details data-item=${item.index} onToggle=${(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <${Status} value=${item.status} /> <span class="mono">${step.id}[${item.index}]</span>
        <span class="muted">${item.attempts.length} attempt${item.attempts.length === 1 ? '' : 's'}${last ? ` · ${duration(last.startedAt, last.finishedAt)}` : ''}</span>
      </summary>
      ${open ? item.attempts.map((a) => html`<${Attempt} a=${a} />`) : null}
    </details>
  </li>`;
}

/** The items of a forEach step: counts by status (each a filter), then the items a page at a time. */
export function LoopItems({ step }) {
  const [filter, setFilter] = useState('');
  const [shown, setShown] = useState(ITEMS_PAGE);
  const list = filter ? step.items.filter((i) => i.status === filter) : step.items;
  const pick = (status) => () => {
    setFilter(status);
    setShown(ITEMS_PAGE);
  };
  const left = list.length - shown;
  return html`<div class="loop">
    <h4>Items</h4>
    <div class="row counts" role="group" aria-label=${`Items of ${step.id} by status`}>
      <button type="button" aria-pressed=${filter === '' ? 'true' : 'false'} onClick=${pick('')}>All ${step.items.length}</button>
      ${countByStatus(step.items).map(
        ([status, n]) => html`<button type="button" class=${`count status-${status}`} data-count=${status}
            aria-pressed=${filter === status ? 'true' : 'false'} onClick=${pick(status)}>${status} ${n}</button>`,
      )}
    </div>
    ${
      list.length === 0
        ? html`<p class="muted">No item is ${filter}.</p>`
        : html`<ol class="items" aria-label=${`Items of ${step.id}`}>
            ${list.slice(0, shown).map((item) => html`<${Item} key=${item.index} step=${step} item=${item} />`)}
          </ol>`
    }
    ${
      left > 0
        ? html`<button type="button" onClick=${() => setShown(shown + ITEMS_PAGE)}>
            Show ${Math.min(ITEMS_PAGE, left)} more items (${left} not shown)
          </button>`
        : null
    }
  </div>`;
}

/** Every step with its attempts, loop items and child runs; a failed step is open. */
export function Steps({ steps }) {
  if (steps.length === 0) return html`<${Empty}>This workflow version has no step.<//>`;
  return steps.map(
    (s) => html`<details key=${s.id} class="step" data-step=${s.id} open=${s.status === 'failed'}>
      <summary><${Status} value=${s.status ?? 'pending'} /> <span class="mono">${s.id}</span>
        <span class="muted">${s.attempts.length} attempt${s.attempts.length === 1 ? '' : 's'}${
          s.items.length ? ` · ${s.items.length} items` : ''
        }${s.calls.length ? ` · ${s.calls.length} child run${s.calls.length === 1 ? '' : 's'}` : ''}</span></summary>
      ${s.attempts.length === 0 ? html`<p class="muted">Not started.</p>` : s.attempts.map((a) => html`<${Attempt} a=${a} />`)}
      ${s.items.length ? html`<${LoopItems} step=${s} />` : null}
      <${Calls} calls=${s.calls} />
    </details>`,
  );
}

/** The run that started this one through `workflow.run`, as a link. */
export function CalledBy({ run }) {
  if (!run.calledBy) return null;
  const { runId, stepId } = run.calledBy;
  return html`<dt>Called by</dt>
    <dd><a href=${`#/runs/${runId}`} data-parent=${runId}>run <span class="mono">${runId.slice(0, 8)}</span></a>, step <code>${stepId}</code></dd>`;
}
