// Runs: the live list (following the change feed, `GET /v1/events`, or polling
// `GET /v1/runs/changes` where the feed is off) and a run's timeline, attempts and controls.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, followEvents, qs } from './api.js';
import {
  ConfirmButton,
  duration,
  Empty,
  ErrorBox,
  Json,
  Status,
  Time,
  useInterval,
  useLoad,
} from './parts.js';
import { CalledBy, groupSteps, Steps, Timeline } from './run-view.js';
import { SendSignal, Signals, Waits } from './run-waits.js';

const STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 2000;
const STATUS_MS = 30_000;
/** Lag worth telling the viewer about: the list may be that far behind. */
const LAG_NOTICE_BYTES = 16 * 1024 * 1024;

const mb = (bytes) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** The sentence the page shows about the feed behind the list, or '' when all is well. */
function feedNotice(status, gap) {
  if (gap) return `The change feed lost changes (${gap}); the list was loaded again.`;
  if (!status) return '';
  if (!status.on) return `Live updates by polling: ${status.reason}.`;
  if (status.lagBytes > LAG_NOTICE_BYTES)
    return `The change feed is ${mb(status.lagBytes)} behind the database (dropped past ${mb(status.maxLagBytes)}): changes appear late.`;
  return '';
}

function matches(run, f) {
  if (f.workflowId && run.workflowId !== f.workflowId) return false;
  if (f.status && run.status !== f.status) return false;
  if (f.since && new Date(run.createdAt) < new Date(f.since)) return false;
  if (f.until && new Date(run.createdAt) >= new Date(f.until)) return false;
  return true;
}

const toIso = (local) => (local ? new Date(local).toISOString() : '');

export function RunsPage({ query, navigate }) {
  const filter = {
    workflowId: query.get('workflowId') ?? '',
    status: query.get('status') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
  };
  const key = JSON.stringify(filter);
  const workflows = useLoad(() => api('GET', '/v1/workflows'), []);
  const [runs, setRuns] = useState([]);
  const [next, setNext] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [loading, setLoading] = useState(true);
  const cursor = useRef(undefined);
  const [feed, setFeed] = useState('starting');
  const [feedStatus, setFeedStatus] = useState(undefined);
  const [gap, setGap] = useState('');
  const follower = useRef(undefined);

  const merge = (items) =>
    setRuns((current) => {
      const byId = new Map(current.map((r) => [r.id, r]));
      for (const r of items) {
        const known = byId.get(r.id);
        if (known || matches(r, filter)) byId.set(r.id, { ...known, ...r });
      }
      return [...byId.values()]
        .filter((r) => matches(r, filter))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    });

  const onEvent = (event) => {
    if (event.type === 'feed.gap') {
      setGap(new Date(event.occurredAt).toLocaleString());
      load();
      return;
    }
    const d = event.data ?? {};
    if (!d.id || !d.createdAt) return;
    merge([
      {
        id: d.id,
        workflowId: d.workflowId,
        status: d.status,
        createdAt: d.createdAt,
        startedAt: d.startedAt ?? undefined,
        finishedAt: d.finishedAt ?? undefined,
      },
    ]);
  };

  const load = async () => {
    setLoading(true);
    follower.current?.stop();
    follower.current = undefined;
    try {
      const f = { ...filter, since: toIso(filter.since), until: toIso(filter.until) };
      // The feed's position first, then the list: nothing between the two is missed.
      const head = await api('GET', '/v1/events?after=latest').catch(() => undefined);
      const changes = head ? undefined : await api('GET', '/v1/runs/changes');
      const page = await api('GET', `/v1/runs${qs({ ...f, limit: 50 })}`);
      cursor.current = changes?.cursor;
      if (head) {
        const f2 = followEvents(head.cursor, onEvent, setFeed);
        follower.current = f2;
        f2.ready.then((ok) => {
          if (!ok && follower.current === f2) {
            // The feed is off: fall back to polling the run changes.
            follower.current = undefined;
            api('GET', '/v1/runs/changes').then((c) => {
              cursor.current = c.cursor;
              setFeed('polling');
            }, setError);
          }
        });
      } else setFeed('polling');
      setRuns(page.items);
      setNext(page.nextCursor);
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load();
    return () => {
      // Gone (another filter, or signed out): the stream ends, and its fallback never starts.
      follower.current?.stop();
      follower.current = undefined;
    };
  }, [key]);

  // Where the feed is off: poll the run changes instead.
  useInterval(
    async () => {
      if (!cursor.current) return;
      try {
        const changes = await api('GET', `/v1/runs/changes${qs({ cursor: cursor.current })}`);
        cursor.current = changes.cursor;
        if (changes.items.length > 0) merge(changes.items);
      } catch (err) {
        setError(err);
      }
    },
    POLL_MS,
    feed === 'polling',
  );

  const readStatus = () =>
    api('GET', '/v1/events/status')
      .then(setFeedStatus)
      .catch(() => {});
  useEffect(() => {
    readStatus();
  }, []);
  useInterval(readStatus, STATUS_MS);

  const more = async () => {
    try {
      const f = { ...filter, since: toIso(filter.since), until: toIso(filter.until) };
      const page = await api('GET', `/v1/runs${qs({ ...f, limit: 50, cursor: next })}`);
      setRuns((r) => [...r, ...page.items.filter((x) => !r.some((y) => y.id === x.id))]);
      setNext(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  };

  const onFilter = (e) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    navigate(`/runs${qs(Object.fromEntries(data.entries()))}`);
  };

  return html`<section>
    <h1>Runs</h1>
    <form class="filters" onSubmit=${onFilter} aria-label="Filter runs">
      <label>Workflow
        <select name="workflowId" value=${filter.workflowId}>
          <option value="">All</option>
          ${(workflows.data?.items ?? []).map((w) => html`<option value=${w.id}>${w.id} ${w.name ?? ''}</option>`)}
        </select>
      </label>
      <label>Status
        <select name="status" value=${filter.status}>
          <option value="">All</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <label>From <input type="datetime-local" name="since" value=${filter.since} /></label>
      <label>Before <input type="datetime-local" name="until" value=${filter.until} /></label>
      <button type="submit">Apply</button>
    </form>
    <p class="muted live" aria-live="polite" data-feed=${feed}>
      ${feed === 'reconnecting' ? 'Reconnecting to the change feed…' : 'Live: new runs and status changes appear as they happen.'}
    </p>
    ${feedNotice(feedStatus, gap) ? html`<p class="notice" role="status">${feedNotice(feedStatus, gap)}</p>` : ''}
    <${ErrorBox} error=${error} retry=${load} />
    ${
      !loading && !error && runs.length === 0
        ? html`<${Empty}>No runs ${key === '{"workflowId":"","status":"","since":"","until":""}' ? 'yet' : 'match these filters'}.
            Start one from <a href="#/workflows">Workflows</a> (a manual workflow's "Run" button), or change the filters.<//>`
        : html`<div class="table-wrap"><table>
            <thead><tr><th>Status</th><th>Workflow</th><th>Run</th><th>Created</th><th>Duration</th></tr></thead>
            <tbody>
              ${runs.map(
                (r) => html`<tr key=${r.id} data-run=${r.id}>
                  <td><${Status} value=${r.status} /></td>
                  <td>${r.workflowId}</td>
                  <td><a href=${`#/runs/${r.id}`} class="mono">${r.id.slice(0, 8)}</a></td>
                  <td><${Time} value=${r.createdAt} /></td>
                  <td>${duration(r.startedAt, r.finishedAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
    }
    ${next ? html`<button type="button" onClick=${more}>Load older runs</button>` : null}
  </section>`;
}

/** A run's page; keyed by the run, so that nothing opened on one run stays open on the next. */
export function RunPage({ id }) {
  return html`<${Run} key=${id} id=${id} />`;
}

function Run({ id }) {
  const [sent, setSent] = useState('');
  const run = useLoad(() => api('GET', `/v1/runs/${encodeURIComponent(id)}`), [id]);
  const live = run.data && !FINISHED.has(run.data.status);
  useInterval(
    async () => {
      try {
        run.set(await api('GET', `/v1/runs/${encodeURIComponent(id)}`));
      } catch {
        // the next tick tries again; a 401 has already ended the session
      }
    },
    1500,
    Boolean(live),
  );
  if (run.error)
    return html`<section><h1>Run</h1><${ErrorBox} error=${run.error} retry=${run.reload} />
      <p><a href="#/runs">Back to the runs</a></p></section>`;
  const r = run.data;
  if (!r) return html`<section><h1>Run</h1><p class="muted">Loading…</p></section>`;
  const steps = groupSteps(r);
  const act = (action) => async () => {
    const answer = await api('POST', `/v1/runs/${r.id}/${action}`);
    run.reload();
    return answer;
  };
  return html`<section>
    <p><a href="#/runs">← Runs</a></p>
    <h1>Run <span class="mono">${r.id}</span></h1>
    <dl class="facts">
      <dt>Status</dt><dd><${Status} value=${r.status} /></dd>
      <dt>Workflow</dt><dd><a href=${`#/workflows/${r.workflowId}`}>${r.workflowId}</a></dd>
      <dt>Run attempt</dt><dd>${r.runAttempt}</dd>
      <dt>Created</dt><dd><${Time} value=${r.createdAt} /></dd>
      <dt>Finished</dt><dd><${Time} value=${r.finishedAt} /></dd>
      <dt>Duration</dt><dd>${duration(r.startedAt, r.finishedAt)}</dd>
      <${CalledBy} run=${r} />
    </dl>
    <div class="row actions">
      <${ConfirmButton} label="Retry" question="Run the failed and cancelled steps of this run again? Succeeded steps keep their outputs."
        disabled=${!['failed', 'cancelled'].includes(r.status)} onConfirm=${act('retry')} />
      <${ConfirmButton} label="Restart" question="Run the whole workflow again, as a new attempt of this run?"
        disabled=${!FINISHED.has(r.status)} onConfirm=${act('restart')} />
      <${ConfirmButton} label="Cancel run" confirmLabel="Cancel the run" danger question="Cancel this run? The running step is aborted."
        disabled=${FINISHED.has(r.status)} onConfirm=${act('cancel')} />
      <${SendSignal} run=${r} disabled=${FINISHED.has(r.status)} onSent=${(name) => {
        setSent(name);
        run.reload();
      }} />
    </div>
    ${sent ? html`<p class="notice" role="status">Signal ${sent} delivered: the run goes on.</p>` : null}
    <${Waits} run=${r} />
    ${r.error ? html`<${Json} label="Run error" value=${r.error} />` : null}
    <h2>Timeline</h2>
    <${Timeline} run=${r} steps=${steps} />
    <${Signals} run=${r} />
    <h2>Input and trigger</h2>
    <${Json} label="Run input" value=${r.input} />
    <${Json} label="Trigger" value=${r.trigger} />
    <h2>Steps</h2>
    <${Steps} steps=${steps} />
  </section>`;
}
