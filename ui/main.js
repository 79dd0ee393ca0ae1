// The Atlas console: sign-in, then runs, workflows, jobs, webhooks, integrations, secrets,
// files, the knowledge base, notifications and the audit log of one tenant. Hash routes (`#/runs/<id>`) so that any page is a link.
import './style.css';
import { html, render } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { notice, session, signIn, signOut, switchTenant } from './api.js';
import { FilesPage } from './files.js';
import { KbDocumentPage, KbPage } from './kb.js';
import { NotificationsPage } from './notifications.js';
import { AuditPage, IntegrationsPage, JobPage, JobsPage, SecretsPage, WebhooksPage } from './others.js';
import { ErrorBox } from './parts.js';
import { RunPage, RunsPage } from './runs.js';
import { WorkflowPage, WorkflowsPage } from './workflows.js';

/**
 * The pages, in the order of the navigation. Parts of Atlas that arrive later add a line here
 * and a page module.
 */
const NAV = [
  ['runs', 'Runs'],
  ['workflows', 'Workflows'],
  ['jobs', 'Jobs'],
  ['webhooks', 'Webhooks'],
  ['integrations', 'Integrations'],
  ['secrets', 'Secrets'],
  ['files', 'Files'],
  ['kb', 'Knowledge base'],
  ['notifications', 'Notifications'],
  ['audit', 'Audit log'],
];

function currentRoute() {
  const hash = window.location.hash.replace(/^#/, '') || '/runs';
  const [path, search = ''] = hash.split('?');
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

const navigate = (to) => {
  window.location.hash = to;
};

function Page({ route }) {
  const [section, id] = route.parts;
  const props = { query: route.query, navigate };
  if (section === 'runs' && id) return html`<${RunPage} id=${id} ...${props} />`;
  if (section === 'workflows' && id) return html`<${WorkflowPage} id=${id} ...${props} />`;
  if (section === 'jobs' && id) return html`<${JobPage} id=${id} ...${props} />`;
  if (section === 'kb' && id) return html`<${KbDocumentPage} id=${id} ...${props} />`;
  const pages = {
    runs: RunsPage,
    workflows: WorkflowsPage,
    jobs: JobsPage,
    webhooks: WebhooksPage,
    integrations: IntegrationsPage,
    secrets: SecretsPage,
    files: FilesPage,
    kb: KbPage,
    notifications: NotificationsPage,
    audit: AuditPage,
  };
  const Component = pages[section];
  if (!Component)
    return html`<section><h1>No such page</h1><p>There is no page "${section}". Pick one in the navigation above.</p></section>`;
  return html`<${Component} ...${props} />`;
}

function SignIn() {
  const [error, setError] = useState(undefined);
  const [dev, setDev] = useState(undefined);
  useEffect(() => {
    fetch('/v1/dev/sign-in')
      .then((r) => (r.ok ? r.json() : { available: false }))
      .then(setDev, () =>
        setDev({ available: false, reason: 'Atlas does not answer: is `npm start` running?' }),
      );
  }, []);
  const paste = (e) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    try {
      signIn(String(data.get('token')).trim(), String(data.get('tenant') ?? '').trim());
    } catch (err) {
      setError(err);
    }
  };
  const devSignIn = async (e) => {
    e.preventDefault();
    const tenant = String(new FormData(e.currentTarget).get('tenant'));
    try {
      const res = await fetch('/v1/dev/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenant }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.detail ?? `Atlas answered ${res.status}.`);
      signIn(body.token, tenant);
    } catch (err) {
      setError(err);
    }
  };
  return html`<main id="main" class="signin">
    <h1>Sign in to Atlas</h1>
    ${notice.value ? html`<p class="error" role="alert">${notice.value}</p>` : null}
    <${ErrorBox} error=${error} />
    ${
      dev?.available
        ? html`<form onSubmit=${devSignIn} class="card" aria-label="Development sign-in">
          <h2>Development sign-in</h2>
          <p class="muted">Offered because Atlas listens on this machine with its development secret.</p>
          <label>Tenant <select name="tenant">${dev.tenants.map((t) => html`<option>${t}</option>`)}</select></label>
          <button type="submit" class="primary">Sign in as developer</button>
        </form>`
        : null
    }
    <form onSubmit=${paste} class="card" aria-label="Sign in with an API token">
      <h2>API token</h2>
      <p class="muted">Paste a token (<code>npx atlas token --tenant demo</code> mints one). It stays in this tab only.</p>
      <label>Token <textarea name="token" rows="4" required autocomplete="off" spellcheck="false"></textarea></label>
      <label>Tenant <small class="muted">(optional: the token's first tenant otherwise)</small> <input name="tenant" /></label>
      <button type="submit" class="primary">Sign in</button>
    </form>
    ${dev && !dev.available && dev.reason ? html`<p class="muted">${dev.reason}</p>` : null}
  </main>`;
}

function App() {
  const [route, setRoute] = useState(currentRoute());
  const main = useRef(null);
  useEffect(() => {
    const onHash = () => {
      setRoute(currentRoute());
      main.current?.focus();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const s = session.value;
  if (!s) return html`<${SignIn} />`;
  const section = route.parts[0] ?? 'runs';
  return html`<a class="skip" href="#main" onClick=${(e) => {
    e.preventDefault();
    main.current?.focus();
  }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/runs">Atlas</a>
      <nav aria-label="Pages">
        ${NAV.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${section === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <div class="who">
        ${
          s.tenants.length > 1
            ? html`<label class="who-tenant">Tenant <select value=${s.tenant} onChange=${(e) => switchTenant(e.currentTarget.value)}>
                ${s.tenants.map((t) => html`<option>${t}</option>`)}</select></label>`
            : html`<span>Tenant <strong>${s.tenant}</strong></span>`
        }
        <button type="button" onClick=${() => signOut()}>Sign out</button>
      </div>
    </header>
    <main id="main" ref=${main} tabindex="-1" key=${s.tenant}>
      <${Page} route=${route} />
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
