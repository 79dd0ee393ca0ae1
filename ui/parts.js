// Small shared pieces: times, statuses, JSON, loading and error states, confirmation.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from './api.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A time in the viewer's zone, UTC on hover. */
export function Time({ value }) {
  if (!value) return html`<span class="muted">—</span>`;
  const d = new Date(value);
  return html`<time datetime=${d.toISOString()} title=${`UTC: ${d.toISOString().replace('T', ' ').replace('Z', '')}`}
    >${dateFormat.format(d)}</time
  >`;
}

export function duration(from, to) {
  if (!from) return '';
  const ms = (to ? new Date(to) : new Date()) - new Date(from);
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function Status({ value }) {
  return html`<span class=${`status status-${value}`}>${value}</span>`;
}

export function Json({ value, label }) {
  if (value === undefined || value === null) return html`<p class="muted">${label}: none</p>`;
  return html`<details open=${JSON.stringify(value).length < 400}>
    <summary>${label}</summary>
    <pre class="json" tabindex="0">${JSON.stringify(value, null, 2)}</pre>
  </details>`;
}

export function ErrorBox({ error, retry }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>Something went wrong.</strong> ${error.message}
    ${retry ? html` <button type="button" onClick=${retry}>Try again</button>` : null}
  </div>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

/** Loads with `fn` when `deps` change; `{ data, error, loading, reload }`. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1), set: (data) => setState((s) => ({ ...s, data })) };
}

/** A list page's rows with "load more" through `nextCursor`; `first` is the first page's whole answer. */
export function usePaged(path, params) {
  const key = JSON.stringify(params);
  const first = useLoad(() => api('GET', `${path}${qs({ ...params, limit: 50 })}`), [path, key]);
  const [extra, setExtra] = useState({ key: '', items: [], next: undefined, error: undefined });
  const own = extra.key === key ? extra : { key, items: [], next: undefined };
  const next = own.items.length ? own.next : first.data?.nextCursor;
  const more = async () => {
    try {
      const page = await api('GET', `${path}${qs({ ...params, limit: 50, cursor: next })}`);
      setExtra({ key, items: [...own.items, ...page.items], next: page.nextCursor });
    } catch (error) {
      setExtra({ ...own, error });
    }
  };
  return {
    first: first.data,
    items: first.data ? [...first.data.items, ...own.items] : undefined,
    error: first.error ?? own.error,
    reload: first.reload,
    more: next ? more : undefined,
  };
}

export function filterNavigate(navigate, base) {
  return (e) => {
    e.preventDefault();
    navigate(`${base}${qs(Object.fromEntries(new FormData(e.currentTarget).entries()))}`);
  };
}

/** Calls `fn` every `ms` while the component is shown (and the tab visible). */
export function useInterval(fn, ms, active = true) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') saved.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

/**
 * A button that asks first, in a modal dialog (Escape or "Keep" declines): `onConfirm` runs
 * only after the second, explicit click.
 */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, danger, disabled }) {
  const dialog = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(undefined);
  const open = () => {
    setError(undefined);
    dialog.current?.showModal();
  };
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" class=${danger ? 'danger' : ''} disabled=${disabled} onClick=${open}>
      ${label}
    </button>
    <dialog ref=${dialog} aria-label=${question}>
      <p>${question}</p>
      <${ErrorBox} error=${error} />
      <div class="row">
        <button type="button" class=${danger ? 'danger' : 'primary'} disabled=${busy} onClick=${confirm}>
          ${confirmLabel ?? label}
        </button>
        <button type="button" onClick=${() => dialog.current?.close()}>Keep it</button>
      </div>
    </dialog>`;
}
