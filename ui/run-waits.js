// What a run waits for (a sleep, a time, a signal), the signals it received, and "Send
// signal" (`POST /v1/runs/:id/signals/:name`): a name and a JSON payload, checked, then confirmed.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { duration, Empty, ErrorBox, Json, Time } from './parts.js';

const SIGNAL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const WAITS = new Set(['core.sleep', 'core.waitUntil', 'core.waitForSignal']);

/** The waits in progress: `waiting` attempts of the run's current attempt. */
export function waitsOf(run) {
  return run.steps.flatMap((s) =>
    s.attempts
      .filter((a) => a.status === 'waiting' && a.runAttempt === run.runAttempt && WAITS.has(a.uses))
      .map((a) => ({ ...a, stepId: s.id })),
  );
}

/** The names of the signals the run waits for now. */
export function awaitedSignals(run) {
  return [
    ...new Set(
      waitsOf(run)
        .filter((w) => w.uses === 'core.waitForSignal' && typeof w.input?.name === 'string')
        .map((w) => w.input.name),
    ),
  ];
}

const fromNow = (at) => (new Date(at) > new Date() ? `in ${duration(new Date().toISOString(), at)}` : 'now');

function Wait({ w }) {
  const step = html`Step <code>${w.stepId}</code>`;
  if (w.uses === 'core.waitForSignal') {
    const timeout = typeof w.input?.timeout === 'string' ? ` (timeout ${w.input.timeout})` : '';
    return html`<li data-wait=${w.stepId}>${step} waits for the signal <strong class="mono">${w.input?.name}</strong>;
      it times out${timeout} at <${Time} value=${w.retryAt} />, ${fromNow(w.retryAt)}.</li>`;
  }
  const verb = w.uses === 'core.sleep' ? 'sleeps' : 'waits';
  return html`<li data-wait=${w.stepId}>${step} ${verb} until <${Time} value=${w.retryAt} />, ${fromNow(w.retryAt)}.</li>`;
}

export function Waits({ run }) {
  const waits = waitsOf(run);
  if (waits.length === 0) {
    if (run.status !== 'waiting') return null;
    return html`<h2>Waiting for</h2><${Empty}>The run is parked, but its wait has just ended: it goes on shortly.<//>`;
  }
  return html`<h2>Waiting for</h2>
    <ul class="waits" aria-label="What the run waits for">${waits.map((w) => html`<${Wait} w=${w} />`)}</ul>`;
}

/** The signals the run received; shown when it has any, or waits (or waited) for one. */
export function Signals({ run }) {
  const signals = run.signals ?? [];
  const waitsForOne = run.steps.some((s) => s.attempts.some((a) => a.uses === 'core.waitForSignal'));
  if (signals.length === 0 && !waitsForOne) return null;
  return html`<h2>Signals received</h2>
    ${
      signals.length === 0
        ? html`<${Empty}>No signal received yet. Send one with "Send signal" above, or from a script:
            <code>${`POST /v1/runs/${run.id}/signals/<name>`}</code> with a JSON body.<//>`
        : html`<ul class="signals" aria-label="Signals received">
            ${signals.map(
              (s) => html`<li data-signal=${s.name}>
                <strong class="mono">${s.name}</strong> to step <code>${s.stepId}</code>, sent by <strong>${s.sender}</strong>
                <span class="muted"> · <${Time} value=${s.receivedAt} /></span>
                <${Json} label="Payload" value=${s.payload} />
              </li>`,
            )}
          </ul>`
    }`;
}

/** Checks the form; `{ name, payload }` or `{ error }` saying what to fix. */
export function readSignal(name, text) {
  if (!SIGNAL_NAME.test(name))
    return { error: 'The name must start with a letter and hold only letters, digits and _ (64 at most).' };
  if (text.trim() === '') return { name, payload: undefined };
  try {
    return { name, payload: JSON.parse(text) };
  } catch (err) {
    return { error: `The payload is not JSON: ${err.message}` };
  }
}

/**
 * "Send signal": a dialog with the name (the awaited ones offered) and a JSON payload,
 * checked in the page, then a confirmation showing exactly what will be sent.
 */
export function SendSignal({ run, onSent, disabled }) {
  const dialog = useRef(null);
  const confirmButton = useRef(null);
  const nameInput = useRef(null);
  const [stage, setStage] = useState({ step: 'edit' });
  // Keyboard focus follows the stage: the name to edit, or the button that sends.
  useEffect(() => {
    if (!dialog.current?.open) return;
    (stage.step === 'confirm' ? confirmButton : nameInput).current?.focus();
  }, [stage.step]);
  const [busy, setBusy] = useState(false);
  const awaited = awaitedSignals(run);
  const open = () => {
    setStage({ step: 'edit' });
    dialog.current?.showModal();
  };
  const review = (e) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const read = readSignal(String(data.get('name')).trim(), String(data.get('payload')));
    setStage(read.error ? { step: 'edit', invalid: read.error } : { step: 'confirm', ...read });
  };
  const send = async () => {
    setBusy(true);
    try {
      const path = `/v1/runs/${encodeURIComponent(run.id)}/signals/${encodeURIComponent(stage.name)}`;
      await api('POST', path, stage.payload);
      dialog.current?.close();
      onSent(stage.name);
    } catch (error) {
      setStage({ ...stage, error });
    } finally {
      setBusy(false);
    }
  };
  const editing = stage.step === 'edit';
  return html`<button type="button" disabled=${disabled} onClick=${open}>Send signal</button>
    <dialog ref=${dialog} aria-label="Send a signal to this run">
      <form onSubmit=${review} class="signal-form" hidden=${!editing}>
        <h2>Send a signal</h2>
        <label>Name
          <input name="name" ref=${nameInput} required list="awaited-signals" autocomplete="off" defaultValue=${awaited[0] ?? ''}
            aria-describedby="signal-hint" />
        </label>
        <datalist id="awaited-signals">${awaited.map((n) => html`<option value=${n} />`)}</datalist>
        <p id="signal-hint" class="muted">${
          awaited.length
            ? `The run waits for: ${awaited.join(', ')}.`
            : 'The run waits for no signal now: Atlas will refuse one it does not wait for.'
        }</p>
        <label>Payload (JSON)
          <textarea name="payload" rows="6" spellcheck="false" defaultValue="{}"
            aria-invalid=${stage.invalid ? 'true' : 'false'}></textarea>
        </label>
        ${stage.invalid ? html`<p class="error" role="alert">${stage.invalid}</p>` : null}
        <div class="row">
          <button type="submit" class="primary">Review</button>
          <button type="button" onClick=${() => dialog.current?.close()}>Keep it</button>
        </div>
      </form>
      ${
        editing
          ? null
          : html`<div class="signal-confirm">
              <p>Send the signal <strong class="mono">${stage.name}</strong> to run <span class="mono">${run.id.slice(0, 8)}</span> with this payload?</p>
              <pre class="json">${stage.payload === undefined ? 'null (no body)' : JSON.stringify(stage.payload, null, 2)}</pre>
              <${ErrorBox} error=${stage.error} />
              <div class="row">
                <button type="button" class="primary" ref=${confirmButton} disabled=${busy} onClick=${send}>Send the signal</button>
                <button type="button" onClick=${() => setStage({ step: 'edit' })}>Back</button>
              </div>
            </div>`
      }
    </dialog>`;
}
