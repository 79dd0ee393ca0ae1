// The knowledge base: its documents, one document with its chunks, and search.
import { html } from 'htm/preact';
import { api } from './api.js';
import {
  ConfirmButton,
  Empty,
  ErrorBox,
  filterNavigate,
  Json,
  Status,
  Time,
  useLoad,
  usePaged,
} from './parts.js';

const MODES = ['hybrid', 'text', 'vector'];

/** A document's source key (its URL, file, name or content hash), shortened for a table cell. */
const sourceOf = (source) => (typeof source === 'string' ? source : (source?.key ?? source?.type ?? ''));
const short = (text) => (text.length > 48 ? `${text.slice(0, 47)}…` : text);

function Search({ params, navigate }) {
  const q = params.q;
  const found = useLoad(
    () =>
      q
        ? api('POST', '/v1/kb/search', { query: q, mode: params.mode || 'hybrid', k: 10 })
        : Promise.resolve(null),
    [q, params.mode],
  );
  const results = found.data?.results;
  return html`<form class="filters" role="search" onSubmit=${filterNavigate(navigate, '/kb')} aria-label="Search the knowledge base">
      <label class="grow">Search <input name="q" type="search" value=${q} maxlength="4000" placeholder="How long do refunds take?" /></label>
      <label>Mode <select name="mode" value=${params.mode || 'hybrid'}>${MODES.map((m) => html`<option>${m}</option>`)}</select></label>
      <button type="submit" class="primary">Search</button>
    </form>
    <${ErrorBox} error=${found.error} retry=${found.reload} />
    ${q && found.loading ? html`<p class="muted">Searching…</p>` : null}
    ${
      q && results?.length === 0
        ? html`<${Empty}>Nothing matches “${q}”. Try other words${params.mode === 'vector' ? ', or the text or hybrid mode (vector search needs an embeddings model in the tenant’s settings)' : ''}.<//>`
        : null
    }
    ${
      results?.length
        ? html`<h2>Results <span class="muted">(${found.data.mode})</span></h2>
          <ol class="results">${results.map(
            (r) => html`<li key=${r.chunkId} data-chunk=${r.chunkId}>
              <p class="row"><strong>#${r.rank}</strong>
                <a href=${`#/kb/${r.document.id}`}>${r.document.title || r.document.source}</a>
                <span class="muted">chunk ${r.ordinal} · score ${Number(r.score).toPrecision(3)}</span></p>
              <pre class="chunk" tabindex="0">${r.text}</pre>
            </li>`,
          )}</ol>`
        : null
    }`;
}

export function KbPage({ query, navigate }) {
  const params = { q: query.get('q') ?? '', mode: query.get('mode') ?? '' };
  const docs = usePaged('/v1/kb/documents', {});
  return html`<section>
    <h1>Knowledge base</h1>
    <${Search} params=${params} navigate=${navigate} />
    <h2>Documents</h2>
    <${ErrorBox} error=${docs.error} retry=${docs.reload} />
    ${
      docs.items?.length === 0
        ? html`<${Empty}>No documents yet. Add one with a <code>KB_INGEST</code> job (<code>POST /v1/jobs</code>), a <code>kb.ingest</code> step, or <code>npx atlas kb ingest</code>; a <a href="#/files">file</a> can be ingested by its id.<//>`
        : null
    }
    ${
      docs.items?.length
        ? html`<div class="table-wrap"><table><thead><tr><th>Title</th><th>Source</th><th>Status</th><th>Chunks</th><th>Tokens</th><th>Updated</th></tr></thead>
          <tbody>${docs.items.map(
            (
              d,
            ) => html`<tr key=${d.id} data-document=${d.id}><td><a href=${`#/kb/${d.id}`}>${d.title || '(untitled)'}</a></td>
              <td class="mono" title=${sourceOf(d.source)}>${short(sourceOf(d.source))}</td><td><${Status} value=${d.status} /></td>
              <td>${d.chunks}</td><td>${d.tokens}</td><td><${Time} value=${d.updatedAt} /></td></tr>`,
          )}</tbody></table></div>`
        : null
    }
    ${docs.more ? html`<button type="button" onClick=${docs.more}>Load older documents</button>` : null}
  </section>`;
}

export function KbDocumentPage({ id, navigate }) {
  const doc = useLoad(() => api('GET', `/v1/kb/documents/${encodeURIComponent(id)}`), [id]);
  if (doc.error)
    return html`<section><p><a href="#/kb">← Knowledge base</a></p><h1>Document</h1><${ErrorBox} error=${doc.error} retry=${doc.reload} /></section>`;
  const d = doc.data;
  if (!d) return html`<section><h1>Document</h1><p class="muted">Loading…</p></section>`;
  return html`<section>
    <p><a href="#/kb">← Knowledge base</a></p>
    <h1>${d.title || '(untitled)'}</h1>
    <dl class="facts">
      <dt>Status</dt><dd><${Status} value=${d.status} /></dd>
      <dt>Source</dt><dd class="mono wrap">${sourceOf(d.source)}</dd>
      <dt>Format</dt><dd>${d.contentType ?? '—'}</dd>
      <dt>Chunks</dt><dd>${d.chunks} (${d.tokens} tokens)</dd>
      <dt>Embeddings</dt><dd>${d.embedding ? `${d.embedding.model}, ${d.embedding.dimensions} dimensions` : 'none: searched by full text only'}</dd>
      <dt>Created</dt><dd><${Time} value=${d.createdAt} /></dd>
      <dt>Updated</dt><dd><${Time} value=${d.updatedAt} /></dd>
    </dl>
    <div class="actions">
      <${ConfirmButton} label="Delete document" danger question=${`Delete “${d.title || d.id}” and its ${d.chunks} chunks? Searches stop finding it.`}
        confirmLabel="Delete" onConfirm=${async () => {
          await api('DELETE', `/v1/kb/documents/${encodeURIComponent(d.id)}`);
          navigate('/kb');
        }} />
    </div>
    ${d.error ? html`<${Json} label="Last ingestion error" value=${d.error} />` : null}
    ${Object.keys(d.metadata ?? {}).length ? html`<${Json} label="Metadata" value=${d.metadata} />` : null}
    <h2>Chunks</h2>
    ${d.chunkList.length === 0 ? html`<${Empty}>This document has no chunks: its ingestion failed (see the error above); ingest it again.<//>` : null}
    <ol class="results">${d.chunkList.map(
      (c) => html`<li key=${c.id}>
        <p class="muted">Chunk ${c.ordinal} · ${c.tokens} tokens${c.embedded ? ' · embedded' : ''}</p>
        <pre class="chunk" tabindex="0">${c.text}</pre>
      </li>`,
    )}</ol>
  </section>`;
}
