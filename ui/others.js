// Jobs, webhook deliveries, integrations, secrets and the audit log.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from './api.js';
import {
  ConfirmButton,
  duration,
  Empty,
  ErrorBox,
  filterNavigate,
  Json,
  Status,
  Time,
  useLoad,
  usePaged,
} from './parts.js';

const JOB_TYPES = [
  'EMAIL_SEND',
  'SOCIAL_PUBLISH',
  'WEBHOOK_SEND',
  'KB_INGEST',
  'AGENT_TASK',
  'TELEGRAM_SEND',
];
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function JobsPage({ query, navigate }) {
  const params = { type: query.get('type') ?? '', status: query.get('status') ?? '' };
  const jobs = usePaged('/v1/jobs', params);
  return html`<section>
    <h1>Jobs</h1>
    <form class="filters" onSubmit=${filterNavigate(navigate, '/jobs')} aria-label="Filter jobs">
      <label>Type <select name="type" value=${params.type}><option value="">All</option>${JOB_TYPES.map((t) => html`<option>${t}</option>`)}</select></label>
      <label>Status <select name="status" value=${params.status}><option value="">All</option>${STATUSES.map((t) => html`<option>${t}</option>`)}</select></label>
      <button type="submit">Apply</button>
    </form>
    <${ErrorBox} error=${jobs.error} retry=${jobs.reload} />
    ${jobs.items?.length === 0 ? html`<${Empty}>No jobs. Typed jobs come from <code>POST /v1/jobs</code> and agent tasks (<code>POST /v1/agents/:id/run</code>).<//>` : null}
    ${
      jobs.items?.length
        ? html`<div class="table-wrap"><table><thead><tr><th>Status</th><th>Type</th><th>Job</th><th>Attempts</th><th>Created</th><th>Duration</th></tr></thead>
          <tbody>${jobs.items.map(
            (j) => html`<tr key=${j.id}><td><${Status} value=${j.status} /></td><td>${j.type}</td>
              <td><a class="mono" href=${`#/jobs/${j.id}`}>${j.id.slice(0, 8)}</a></td>
              <td>${j.attempts}/${j.maxAttempts}</td><td><${Time} value=${j.createdAt} /></td><td>${duration(j.startedAt, j.finishedAt)}</td></tr>`,
          )}</tbody></table></div>`
        : null
    }
    ${jobs.more ? html`<button type="button" onClick=${jobs.more}>Load older jobs</button>` : null}
  </section>`;
}

export function JobPage({ id }) {
  const job = useLoad(() => api('GET', `/v1/jobs/${encodeURIComponent(id)}`), [id]);
  if (job.error)
    return html`<section><h1>Job</h1><${ErrorBox} error=${job.error} retry=${job.reload} /></section>`;
  const j = job.data;
  if (!j) return html`<section><h1>Job</h1><p class="muted">Loading…</p></section>`;
  return html`<section>
    <p><a href="#/jobs">← Jobs</a></p>
    <h1>${j.type} <span class="mono">${j.id}</span></h1>
    <dl class="facts">
      <dt>Status</dt><dd><${Status} value=${j.status} /></dd>
      <dt>Action</dt><dd>${j.uses}</dd>
      <dt>Attempts</dt><dd>${j.attempts}/${j.maxAttempts}</dd>
      <dt>Created</dt><dd><${Time} value=${j.createdAt} /></dd>
      <dt>Next attempt</dt><dd><${Time} value=${j.status === 'queued' ? j.runAt : null} /></dd>
    </dl>
    <${Json} label="Payload" value=${j.payload} />
    ${j.result ? html`<${Json} label="Result" value=${j.result} />` : null}
    ${j.lastError ? html`<${Json} label="Last error" value=${j.lastError} />` : null}
    <h2>Attempts</h2>
    ${j.steps.length === 0 ? html`<${Empty}>No attempt yet.<//>` : null}
    ${j.steps.map(
      (
        s,
      ) => html`<div class="attempt"><h4><span class="mono">${s.id}</span> attempt ${s.attempt}/${s.maxAttempts} <${Status} value=${s.status} />
        <span class="muted"><${Time} value=${s.startedAt} /> · ${duration(s.startedAt, s.finishedAt)}</span></h4>
        ${s.retryAt ? html`<p>Retries at <${Time} value=${s.retryAt} /></p>` : null}
        <${Json} label="Input (secrets redacted)" value=${s.input} />
        ${s.output ? html`<${Json} label="Output" value=${s.output} />` : null}
        ${s.error ? html`<${Json} label="Error" value=${s.error} />` : null}</div>`,
    )}
  </section>`;
}

export function WebhooksPage({ query, navigate }) {
  const params = { route: query.get('route') ?? '', eventId: query.get('eventId') ?? '' };
  const events = usePaged('/v1/webhook-events', params);
  return html`<section>
    <h1>Webhook deliveries</h1>
    <form class="filters" onSubmit=${filterNavigate(navigate, '/webhooks')} aria-label="Filter deliveries">
      <label>Route <input name="route" value=${params.route} placeholder="stripe" /></label>
      <label>Event id <input name="eventId" value=${params.eventId} /></label>
      <button type="submit">Apply</button>
    </form>
    <${ErrorBox} error=${events.error} retry=${events.reload} />
    ${events.items?.length === 0 ? html`<${Empty}>No delivery accepted yet. Point a provider at a route with <code>?tenantId=</code> this tenant (see the README's Inbound webhooks); refused deliveries are in the <a href="#/audit?action=webhook.reject">audit log</a>.<//>` : null}
    ${
      events.items?.length
        ? html`<div class="table-wrap"><table><thead><tr><th>Received</th><th>Route</th><th>Event</th><th>Event id</th><th>Runs started</th></tr></thead>
          <tbody>${events.items.map(
            (
              d,
            ) => html`<tr key=${d.id} data-delivery=${d.eventId}><td><${Time} value=${d.receivedAt} /></td><td>${d.route}</td><td>${d.eventType}</td>
              <td class="mono">${d.eventId}</td>
              <td>${d.runIds.length === 0 ? html`<span class="muted">none (no enabled workflow subscribes)</span>` : d.runIds.map((r) => html`<a class="mono" href=${`#/runs/${r}`}>${r.slice(0, 8)}</a> `)}</td></tr>`,
          )}</tbody></table></div>`
        : null
    }
    ${events.more ? html`<button type="button" onClick=${events.more}>Load older deliveries</button>` : null}
  </section>`;
}

const PROVIDERS = ['google', 'microsoft', 'meta', 'x', 'linkedin', 'tiktok'];

export function IntegrationsPage() {
  const list = useLoad(() => api('GET', '/v1/integrations'), []);
  const [error, setError] = useState(undefined);
  const connect = async (e) => {
    e.preventDefault();
    const provider = String(new FormData(e.currentTarget).get('provider'));
    try {
      const link = await api('POST', `/v1/oauth/${encodeURIComponent(provider)}/connect-links`, {
        ttlSeconds: 600,
      });
      window.location.assign(link.url);
    } catch (err) {
      setError(err);
    }
  };
  const items = list.data?.items ?? [];
  return html`<section>
    <h1>Integrations</h1>
    <form class="filters" onSubmit=${connect} aria-label="Connect an account">
      <label>Provider <select name="provider">${PROVIDERS.map((p) => html`<option>${p}</option>`)}</select></label>
      <button type="submit" class="primary">Connect…</button>
    </form>
    <p class="muted">Connecting opens the provider's consent page in this browser through a single-use connect link.</p>
    <${ErrorBox} error=${error ?? list.error} retry=${list.error ? list.reload : undefined} />
    ${list.data && items.length === 0 ? html`<${Empty}>No account connected. Pick a provider above; its client id and secret must be configured (README, Connecting accounts).<//>` : null}
    ${
      items.length
        ? html`<div class="table-wrap"><table><thead><tr><th>Provider</th><th>Account</th><th>Status</th><th>Expires</th><th></th></tr></thead>
          <tbody>${items.map(
            (i) => html`<tr key=${i.id}><td>${i.provider}</td><td>${i.account ?? ''}</td>
              <td><${Status} value=${i.status} />${i.statusReason ? html` <span class="muted">${i.statusReason}</span>` : null}</td>
              <td><${Time} value=${i.expiresAt} /></td>
              <td><${ConfirmButton} label="Disconnect" danger question=${`Disconnect ${i.provider}? Atlas revokes the grant where the provider allows it and deletes the tokens.`}
                onConfirm=${async () => {
                  await api('DELETE', `/v1/integrations/${i.id}`);
                  list.reload();
                }} /></td></tr>`,
          )}</tbody></table></div>`
        : null
    }
  </section>`;
}

export function SecretsPage() {
  const list = useLoad(() => api('GET', '/v1/secrets'), []);
  const [error, setError] = useState(undefined);
  const [saved, setSaved] = useState('');
  const save = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const name = String(data.get('name')).trim();
    try {
      await api('PUT', `/v1/secrets/${encodeURIComponent(name)}`, { value: String(data.get('value')) });
      form.reset();
      setError(undefined);
      setSaved(`${name} saved.`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const items = list.data?.items ?? [];
  return html`<section>
    <h1>Secrets</h1>
    <p class="muted">Values are write-only: Atlas never shows one again.</p>
    <form class="filters" onSubmit=${save} aria-label="Set a secret">
      <label>Name <input name="name" required autocomplete="off" /></label>
      <label>Value <input name="value" type="password" required autocomplete="new-password" /></label>
      <button type="submit" class="primary">Save secret</button>
    </form>
    <p aria-live="polite" class="muted">${saved}</p>
    <${ErrorBox} error=${error ?? list.error} />
    ${list.data && items.length === 0 ? html`<${Empty}>No secrets yet. Steps read them as <code>{{ secrets.NAME }}</code>.<//>` : null}
    ${
      items.length
        ? html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Updated</th><th></th></tr></thead>
          <tbody>${items.map(
            (
              s,
            ) => html`<tr key=${s.name}><td class="mono">${s.name}</td><td><${Time} value=${s.updatedAt ?? s.createdAt} /></td>
              <td><${ConfirmButton} label="Delete" danger question=${`Delete the secret ${s.name}? Steps that read it will fail.`}
                onConfirm=${async () => {
                  await api('DELETE', `/v1/secrets/${encodeURIComponent(s.name)}`);
                  list.reload();
                }} /></td></tr>`,
          )}</tbody></table></div>`
        : null
    }
  </section>`;
}

export function AuditPage({ query, navigate }) {
  const params = {};
  for (const k of ['action', 'entityType', 'entityId', 'actor']) params[k] = query.get(k) ?? '';
  const entries = usePaged('/v1/audit', params);
  return html`<section>
    <h1>Audit log</h1>
    <form class="filters" onSubmit=${filterNavigate(navigate, '/audit')} aria-label="Filter the audit log">
      ${Object.entries(params).map(([k, v]) => html`<label>${k} <input name=${k} value=${v} /></label>`)}
      <button type="submit">Apply</button>
    </form>
    <${ErrorBox} error=${entries.error} retry=${entries.reload} />
    ${entries.items?.length === 0 ? html`<${Empty}>No entry matches. Every change and every external call is recorded here; clear the filters to see all.<//>` : null}
    ${
      entries.items?.length
        ? html`<div class="table-wrap"><table><thead><tr><th>At</th><th>Action</th><th>Entity</th><th>Actor</th><th>Result</th></tr></thead>
          <tbody>${entries.items.map(
            (a) => html`<tr key=${a.id}><td><${Time} value=${a.at ?? a.createdAt} /></td><td>${a.action}</td>
              <td>${a.entityType} <span class="mono">${a.entityId ?? ''}</span></td><td>${a.actor}</td>
              <td>${a.result ?? ''} ${a.status ?? ''}</td></tr>`,
          )}</tbody></table></div>`
        : null
    }
    ${entries.more ? html`<button type="button" onClick=${entries.more}>Load older entries</button>` : null}
  </section>`;
}
