// Notifications: where Atlas tells the tenant that something needs a look (a Telegram chat,
// email addresses, a signed webhook), and about which events.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { ErrorBox, Time, useLoad } from './parts.js';

const EVENTS = [
  ['run.failed', 'A run failed after its last attempt'],
  ['job.failed', 'A typed job failed after its last attempt'],
  ['integration.disconnected', 'An integration was disconnected (with a link that reconnects it)'],
  ['quota.warning', 'A quota went above 90% (file storage, LLM tokens of the day)'],
];

/** The form's fields from the stored document. */
function fieldsOf(doc) {
  const ch = doc?.channels ?? {};
  return {
    chatId: String(ch.telegram?.chatId ?? ''),
    emailTo: (ch.email?.to ?? []).join(', '),
    webhookUrl: ch.webhook?.url ?? '',
    webhookSecret: ch.webhook?.secret ?? '',
    events: doc?.events ?? EVENTS.map(([id]) => id),
  };
}

/** The form's fields as the API's document: empty fields are channels left out. */
function documentOf(f) {
  const channels = {};
  const chat = f.chatId.trim();
  if (chat) channels.telegram = { chatId: /^-?\d{1,15}$/.test(chat) ? Number(chat) : chat };
  const to = f.emailTo.split(/[\s,;]+/).filter(Boolean);
  if (to.length) channels.email = { to };
  if (f.webhookUrl.trim() || f.webhookSecret.trim())
    channels.webhook = { url: f.webhookUrl.trim(), secret: f.webhookSecret.trim() };
  return { channels, events: EVENTS.map(([id]) => id).filter((id) => f.events.includes(id)) };
}

export function NotificationsPage() {
  const [fields, setFields] = useState(undefined);
  const current = useLoad(async () => {
    const doc = await api('GET', '/v1/notifications');
    setFields(fieldsOf(doc));
    return doc;
  }, []);
  const [error, setError] = useState(undefined);
  const [saved, setSaved] = useState('');
  const field = (name) => ({
    name,
    value: fields[name],
    onInput: (e) => setFields({ ...fields, [name]: e.currentTarget.value }),
  });
  const toggle = (id) => (e) =>
    setFields({
      ...fields,
      events: e.currentTarget.checked ? [...fields.events, id] : fields.events.filter((x) => x !== id),
    });
  const save = async (e) => {
    e.preventDefault();
    try {
      const doc = await api('PUT', '/v1/notifications', documentOf(fields));
      current.set(doc);
      setFields(fieldsOf(doc));
      setError(undefined);
      setSaved('Notification settings saved.');
    } catch (err) {
      setSaved('');
      setError(err);
    }
  };
  const s = current.data;
  return html`<section>
    <h1>Notifications</h1>
    <p class="muted">Atlas sends at most one message per workflow (job type, integration, quota) and kind every 15 minutes; what happens meanwhile arrives as one digest when that window ends.</p>
    <${ErrorBox} error=${current.error} retry=${current.reload} />
    ${
      s && fields
        ? html`<form class="card" onSubmit=${save} aria-label="Notification settings">
        <fieldset><legend>Channels</legend>
          <label>Telegram chat id <input ...${field('chatId')} placeholder="-1001234567890 or @channel" autocomplete="off" /></label>
          <p class="muted">Written by the tenant's own bot (secret TELEGRAM_BOT_TOKEN), or the platform's bot in a chat the operator assigned.</p>
          <label>Email addresses <input ...${field('emailTo')} placeholder="ops@example.com" autocomplete="off" /></label>
          <label>Webhook URL <input ...${field('webhookUrl')} type="url" placeholder="https://hooks.example.com/atlas" /></label>
          <label>Webhook signing secret (its name) <input ...${field('webhookSecret')} placeholder="NOTIFY_WEBHOOK_SECRET" autocomplete="off" /></label>
        </fieldset>
        <fieldset><legend>Events</legend>
          ${EVENTS.map(
            ([id, label]) =>
              html`<label class="check"><input type="checkbox" checked=${fields.events.includes(id)} onChange=${toggle(id)} /> ${label}</label>`,
          )}
        </fieldset>
        <button type="submit" class="primary">Save</button>
        ${s.updatedAt ? html`<p class="muted">Last changed <${Time} value=${s.updatedAt} /> by ${s.updatedBy ?? 'someone'}.</p>` : null}
      </form>`
        : null
    }
    <p aria-live="polite" class="muted">${saved}</p>
    <${ErrorBox} error=${error} />
  </section>`;
}
