// Workflows: the catalogue with per-tenant enablement, a workflow's source, and "Run" with a
// form generated from its input JSON Schema, validated before it is sent.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { Empty, ErrorBox, Time, useLoad } from './parts.js';

function EnabledToggle({ workflow, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(undefined);
  const toggle = async () => {
    setBusy(true);
    try {
      const state = await api('PUT', `/v1/workflows/${workflow.id}/enabled`, { enabled: !workflow.enabled });
      onChange(state.enabled);
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" role="switch" class="switch" aria-checked=${workflow.enabled ? 'true' : 'false'}
      aria-label=${`Enabled for this tenant: ${workflow.id}`} disabled=${busy} onClick=${toggle}>
      ${workflow.enabled ? 'Enabled' : 'Disabled'}
    </button>
    ${error ? html`<span class="error-inline" role="alert">${error.message}</span>` : null}`;
}

/** When the schedule next starts a run for this tenant, or why it does not. */
function NextRun({ workflow: w }) {
  if (w.nextRun) return html`<${Time} value=${w.nextRun} />`;
  if (w.trigger !== 'schedule') return html`<span class="muted">—</span>`;
  if (w.skipped) return html`<span class="muted">skipped: ${w.skipped}</span>`;
  return html`<span class="muted">not enabled for this tenant</span>`;
}

export function WorkflowsPage() {
  const list = useLoad(() => api('GET', '/v1/workflows'), []);
  const setEnabled = (id, enabled) => {
    list.set({ items: list.data.items.map((w) => (w.id === id ? { ...w, enabled } : w)) });
    list.reload(); // the next run depends on it
  };
  return html`<section>
    <h1>Workflows</h1>
    <p class="muted">Schedules, webhooks and events start a workflow only for tenants that enabled it; "Run" works either way.</p>
    <${ErrorBox} error=${list.error} retry=${list.reload} />
    ${list.data && list.data.items.length === 0 ? html`<${Empty}>The catalogue has no workflow: add a manifest under <code>manifests/workflows/</code> and restart Atlas.<//>` : null}
    ${
      list.data?.items.length
        ? html`<div class="table-wrap"><table>
          <thead><tr><th>Workflow</th><th>Trigger</th><th>Next run</th><th>Enabled</th></tr></thead>
          <tbody>${list.data.items.map(
            (w) => html`<tr key=${w.id} data-workflow=${w.id}>
              <td><a href=${`#/workflows/${w.id}`}>${w.id}</a> ${w.name ?? ''}</td>
              <td>${w.trigger}</td>
              <td class="next"><${NextRun} workflow=${w} /></td>
              <td><${EnabledToggle} workflow=${w} onChange=${(on) => setEnabled(w.id, on)} /></td>
            </tr>`,
          )}</tbody></table></div>`
        : null
    }
  </section>`;
}

/** Checks a value against the parts of JSON Schema a form can get wrong. */
export function check(schema, value, at = 'input') {
  const errors = [];
  if (!schema || typeof schema !== 'object') return errors;
  const type = schema.type;
  const typeOk = {
    string: (v) => typeof v === 'string',
    number: (v) => typeof v === 'number' && Number.isFinite(v),
    integer: (v) => Number.isInteger(v),
    boolean: (v) => typeof v === 'boolean',
    object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
    array: (v) => Array.isArray(v),
  };
  if (typeof type === 'string' && typeOk[type] && !typeOk[type](value)) {
    errors.push(`${at} must be ${type === 'integer' ? 'a whole number' : `a ${type}`}`);
    return errors;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${at} must be one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(
        schema.minLength === 1 ? `${at} is required` : `${at} needs at least ${schema.minLength} characters`,
      );
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      errors.push(`${at} allows at most ${schema.maxLength} characters`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${at} must match ${schema.pattern}`);
    if (schema.format === 'uri' && !/^[a-z][a-z0-9+.-]*:/i.test(value)) errors.push(`${at} must be a URL`);
    if (schema.format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value))
      errors.push(`${at} must be an email address`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${at} must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${at} must be at most ${schema.maximum}`);
  }
  if (typeOk.object(value) && schema.properties) {
    for (const name of schema.required ?? [])
      if (value[name] === undefined) errors.push(`${at}.${name} is required`);
    for (const [name, sub] of Object.entries(schema.properties))
      if (value[name] !== undefined) errors.push(...check(sub, value[name], `${at}.${name}`));
  }
  return errors;
}

/** A form field per top-level property; anything nested is edited as JSON. */
function fieldValue(schema, raw) {
  if (raw === '' || raw === undefined) return undefined;
  if (schema.type === 'integer' || schema.type === 'number')
    return raw.trim() === '' ? undefined : Number(raw);
  if (schema.type === 'boolean') return raw === 'true';
  if (schema.type === 'object' || schema.type === 'array' || !schema.type) {
    try {
      return JSON.parse(raw);
    } catch {
      return { __invalidJson: raw };
    }
  }
  return raw;
}

function RunForm({ workflow, navigate }) {
  const schema = workflow.manifest.input ?? { type: 'object' };
  const props = schema.type === 'object' && schema.properties ? schema.properties : undefined;
  const [errors, setErrors] = useState([]);
  const [error, setError] = useState(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    let input = {};
    const problems = [];
    if (props) {
      for (const [name, sub] of Object.entries(props)) {
        const v = fieldValue(sub, data.get(name) ?? '');
        if (v && typeof v === 'object' && '__invalidJson' in v)
          problems.push(`input.${name} is not valid JSON`);
        else if (v !== undefined) input[name] = v;
      }
    } else {
      const raw = String(data.get('__json') ?? '').trim();
      try {
        input = raw === '' ? {} : JSON.parse(raw);
      } catch {
        problems.push('the input is not valid JSON');
      }
    }
    if (problems.length === 0) problems.push(...check(schema, input));
    setErrors(problems);
    if (problems.length > 0) return;
    setBusy(true);
    try {
      const run = await api('POST', `/v1/workflows/${workflow.id}/runs`, { input });
      navigate(`/runs/${run.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const required = new Set(schema.required ?? []);
  return html`<form class="run-form" onSubmit=${submit} novalidate aria-label=${`Run ${workflow.id}`}>
    ${
      props
        ? Object.entries(props).map(([name, sub]) => {
            const label = html`<span>${name}${required.has(name) ? html` <span aria-hidden="true">*</span>` : ''}</span>
              ${sub.description ? html`<small class="muted">${sub.description}</small>` : null}`;
            if (sub.enum)
              return html`<label>${label}<select name=${name}><option value="">—</option>${sub.enum.map((v) => html`<option value=${v}>${v}</option>`)}</select></label>`;
            if (sub.type === 'boolean')
              return html`<label>${label}<select name=${name}><option value="">—</option><option value="true">true</option><option value="false">false</option></select></label>`;
            if (sub.type === 'object' || sub.type === 'array' || !sub.type)
              return html`<label>${label}<textarea name=${name} rows="3" placeholder="JSON"></textarea></label>`;
            const type =
              sub.type === 'integer' || sub.type === 'number'
                ? 'number'
                : sub.format === 'email'
                  ? 'email'
                  : sub.format === 'uri'
                    ? 'url'
                    : 'text';
            return html`<label>${label}<input name=${name} type=${type} step=${sub.type === 'integer' ? '1' : 'any'} required=${required.has(name)} /></label>`;
          })
        : html`<label>Input (JSON)<textarea name="__json" rows="4">{}</textarea></label>`
    }
    ${errors.length ? html`<ul class="error" role="alert">${errors.map((m) => html`<li>${m}</li>`)}</ul>` : null}
    <${ErrorBox} error=${error} />
    <button type="submit" class="primary" disabled=${busy}>Run ${workflow.id}</button>
  </form>`;
}

export function WorkflowPage({ id, navigate }) {
  const wf = useLoad(() => api('GET', `/v1/workflows/${encodeURIComponent(id)}`), [id]);
  const source = useLoad(() => api('GET', `/v1/workflows/${encodeURIComponent(id)}/source`), [id]);
  if (wf.error)
    return html`<section><h1>${id}</h1><${ErrorBox} error=${wf.error} retry=${wf.reload} /></section>`;
  const w = wf.data;
  if (!w) return html`<section><h1>${id}</h1><p class="muted">Loading…</p></section>`;
  const lines = typeof source.data === 'string' ? source.data.replace(/\n$/, '').split('\n') : [];
  return html`<section>
    <p><a href="#/workflows">← Workflows</a></p>
    <h1>${w.id} ${w.name ?? ''}</h1>
    ${w.description ? html`<p>${w.description}</p>` : null}
    <dl class="facts">
      <dt>Trigger</dt><dd>${w.trigger}</dd>
      <dt>Enabled</dt><dd>${w.enabled ? 'yes' : 'no'}</dd>
      <dt>Next run</dt><dd><${NextRun} workflow=${w} /></dd>
      <dt>Schedule</dt><dd>${w.nextRuns.length ? w.nextRuns.map((t) => html`<${Time} value=${t} /> `) : '—'}</dd>
      <dt>Version</dt><dd class="mono">${w.hash.slice(0, 12)}</dd>
      <dt>Runs</dt><dd><a href=${`#/runs?workflowId=${w.id}`}>this workflow's runs</a></dd>
    </dl>
    <h2>Run it</h2>
    <${RunForm} workflow=${w} navigate=${navigate} />
    <h2>Manifest</h2>
    <${ErrorBox} error=${source.error} />
    <ol class="source mono" tabindex="0" aria-label="Manifest source">${lines.map((l) => html`<li><code>${l || ' '}</code></li>`)}</ol>
  </section>`;
}
