// The tenant's files: usage against the limits, upload, signed download links, deletion.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { ConfirmButton, Empty, ErrorBox, filterNavigate, Time, usePaged } from './parts.js';

/** 1536 as "1.5 KB": powers of 1024, as the limits are set in MB. */
export function bytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** An upload's refusal in words that say what to do. */
function uploadError(err) {
  const p = err.problem;
  if (err.status === 409 && p?.reason === 'quota_exceeded') {
    const u = p.usage ?? {};
    const l = p.limits ?? {};
    return new Error(
      `The tenant's quota is full: ${u.files ?? '?'} of ${l.maxFiles ?? '?'} files, ${bytes(u.bytes)} of ${bytes(l.maxStorageBytes)} used. ` +
        'Delete files below, or ask an operator to raise settings.files.',
    );
  }
  if (err.status === 413) {
    const max = p?.maxFileBytes;
    return new Error(
      `The file is too large${max ? `: at most ${bytes(max)} per file` : ''}. Upload a smaller file, or ask an operator to raise settings.files.maxFileMb.`,
    );
  }
  if (err.status === 415)
    return new Error(`${err.message} Pick the file again, or rename it to its real type.`);
  return err;
}

function Meter({ label, used, max, format }) {
  const share = max > 0 ? Math.min(1, used / max) : 0;
  return html`<div class="meter">
    <span>${label}: <strong>${format(used)}</strong> of ${format(max)}</span>
    <progress max="1" value=${share} aria-label=${`${label} used`}>${Math.round(share * 100)}%</progress>
  </div>`;
}

function LinkCell({ file }) {
  const [link, setLink] = useState(undefined);
  const [error, setError] = useState(undefined);
  const get = async () => {
    setError(undefined);
    try {
      setLink(await api('GET', `/v1/files/${file.id}/url?ttl=1h`));
    } catch (err) {
      setError(err);
    }
  };
  if (link)
    return html`<a href=${link.url} target="_blank" rel="noopener noreferrer" download=${file.name}
        aria-label=${`Download ${file.name}`}>Download</a>
      <span class="muted"> until <${Time} value=${link.expiresAt} /></span>`;
  return html`<button type="button" onClick=${get} aria-label=${`Get a link to ${file.name}`}>Get link</button>
    ${error ? html`<span class="error-inline" role="alert">${error.message}</span>` : null}`;
}

function Upload({ onDone }) {
  const [error, setError] = useState(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const upload = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const file = data.get('file');
    if (!(file instanceof File) || !file.name) {
      setError(new Error('Choose a file first.'));
      return;
    }
    setBusy(true);
    setError(undefined);
    setDone('');
    try {
      const saved = await api('POST', '/v1/files', data);
      form.reset();
      setDone(`${saved.name} uploaded (${bytes(saved.size)}).`);
      onDone();
    } catch (err) {
      setError(uploadError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="filters" onSubmit=${upload} aria-label="Upload a file">
      <label>File <input type="file" name="file" required /></label>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Uploading…' : 'Upload'}</button>
    </form>
    <p aria-live="polite" class="muted">${done}</p>
    <${ErrorBox} error=${error} />`;
}

export function FilesPage({ query, navigate }) {
  const params = { prefix: query.get('prefix') ?? '' };
  const files = usePaged('/v1/files', params);
  const first = files.first;
  return html`<section>
    <h1>Files</h1>
    ${
      first
        ? html`<div class="meters">
          <${Meter} label="Files" used=${first.usage.files} max=${first.limits.maxFiles} format=${String} />
          <${Meter} label="Storage" used=${first.usage.bytes} max=${first.limits.maxStorageBytes} format=${bytes} />
          <span class="muted">At most ${bytes(first.limits.maxFileBytes)} per file.</span>
        </div>`
        : null
    }
    <${Upload} onDone=${files.reload} />
    <form class="filters" onSubmit=${filterNavigate(navigate, '/files')} aria-label="Filter files">
      <label>Name starts with <input name="prefix" value=${params.prefix} maxlength="255" /></label>
      <button type="submit">Apply</button>
    </form>
    <${ErrorBox} error=${files.error} retry=${files.reload} />
    ${
      files.items?.length === 0
        ? params.prefix
          ? html`<${Empty}>No file name starts with “${params.prefix}”. <a href="#/files">Show all files</a>.<//>`
          : html`<${Empty}>No files yet. Upload one above, or with <code>npx atlas files put</code>; workflows store them with <code>files.put</code>.<//>`
        : null
    }
    ${
      files.items?.length
        ? html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Type</th><th>Size</th><th>Uploaded</th><th>By</th><th>Link</th><th></th></tr></thead>
          <tbody>${files.items.map(
            (
              f,
            ) => html`<tr key=${f.id} data-file=${f.name}><td class="mono">${f.name}</td><td>${f.contentType}</td>
              <td>${bytes(f.size)}</td><td><${Time} value=${f.createdAt} /></td><td>${f.createdBy}</td>
              <td><${LinkCell} file=${f} /></td>
              <td><${ConfirmButton} label="Delete" danger question=${`Delete ${f.name}? Links to it stop working and steps that read it will fail.`}
                onConfirm=${async () => {
                  await api('DELETE', `/v1/files/${f.id}`);
                  files.reload();
                }} /></td></tr>`,
          )}</tbody></table></div>`
        : null
    }
    ${files.more ? html`<button type="button" onClick=${files.more}>Load older files</button>` : null}
  </section>`;
}
