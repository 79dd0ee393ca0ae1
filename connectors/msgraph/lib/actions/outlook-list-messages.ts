import {
  defineAction,
  expectArray,
  expectRecord,
  expectString,
  isRecord,
  optionalString,
  platformMailbox,
} from 'atlas-engine/sdk';
import { graphApp, requireCredentials, SETTINGS } from '../../client.ts';
import { mailbox } from '../schemas.ts';

export interface ListMessagesInput {
  mailbox?: string;
  folder?: string;
  top?: number;
  filter?: string;
  search?: string;
  unreadOnly?: boolean;
}

export interface MessageSummary {
  id: string;
  subject: string;
  from?: string;
  receivedDateTime?: string;
  bodyPreview?: string;
  isRead?: boolean;
  webLink?: string;
}

const SELECT = 'id,subject,from,receivedDateTime,bodyPreview,isRead,webLink';

export const outlookListMessages = defineAction<
  ListMessagesInput,
  { messages: MessageSummary[]; nextLink?: string }
>({
  id: 'outlook.listMessages',
  description:
    'List messages of a mailbox (newest first) through Microsoft Graph with the platform app (Mail.Read).',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mailbox,
      folder: {
        type: 'string',
        description: 'A folder id or well-known name (`inbox`, `sentitems`); all mail when absent.',
      },
      top: { type: 'integer', minimum: 1, maximum: 100, default: 25, description: 'How many messages.' },
      filter: {
        type: 'string',
        description: "An OData $filter, e.g. `from/emailAddress/address eq 'a@b.c'`.",
      },
      search: { type: 'string', description: 'A $search query (KQL); cannot be combined with ordering.' },
      unreadOnly: { type: 'boolean', description: 'Only unread messages.' },
    },
  },
  output: {
    type: 'object',
    required: ['messages'],
    properties: {
      messages: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'subject'],
          properties: {
            id: { type: 'string' },
            subject: { type: 'string' },
            from: { type: 'string', description: 'Sender address.' },
            receivedDateTime: { type: 'string', format: 'date-time' },
            bodyPreview: { type: 'string' },
            isRead: { type: 'boolean' },
            webLink: { type: 'string', description: 'Opens the message in Outlook on the web.' },
          },
        },
      },
      nextLink: { type: 'string', description: 'Graph’s @odata.nextLink when more messages exist.' },
    },
  },
  async run(ctx, input) {
    requireCredentials(ctx);
    // The app may read every mailbox of the organisation: a tenant only those assigned to it.
    const box = await platformMailbox(ctx, input.mailbox, ctx.config.settings[SETTINGS.sender], 'read');
    const folder = input.folder ? `/mailFolders/${encodeURIComponent(input.folder)}` : '';
    const filters = [input.filter, input.unreadOnly ? 'isRead eq false' : undefined].filter(Boolean);
    const query = {
      $select: SELECT,
      $top: input.top ?? 25,
      // Graph rejects $orderby together with $search.
      ...(input.search
        ? { $search: `"${input.search.replaceAll('"', '')}"` }
        : { $orderby: 'receivedDateTime desc' }),
      ...(filters.length ? { $filter: filters.map((f) => `(${f})`).join(' and ') } : {}),
    };
    const res = await graphApp(ctx, (token) =>
      ctx.http.request({
        url: `/users/${encodeURIComponent(box)}${folder}/messages`,
        query,
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    const page = expectRecord(res.json(), 'msgraph messages');
    const messages = expectArray(page['value'], 'msgraph messages value').map(toSummary);
    const nextLink = optionalString(page, '@odata.nextLink');
    return { messages, ...(nextLink ? { nextLink } : {}) };
  },
});

function toSummary(item: unknown): MessageSummary {
  const m = expectRecord(item, 'msgraph message');
  const from =
    isRecord(m['from']) && isRecord(m['from']['emailAddress'])
      ? m['from']['emailAddress']['address']
      : undefined;
  const summary: MessageSummary = {
    id: expectString(m, 'id', 'msgraph message'),
    subject: optionalString(m, 'subject') ?? '',
  };
  if (typeof from === 'string') summary.from = from;
  for (const key of ['receivedDateTime', 'bodyPreview', 'webLink'] as const) {
    const value = optionalString(m, key);
    if (value !== undefined) summary[key] = value;
  }
  if (typeof m['isRead'] === 'boolean') summary.isRead = m['isRead'];
  return summary;
}
