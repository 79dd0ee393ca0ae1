import { type ActionContext, ConnectorError, defineAction, platformMailbox } from 'atlas-engine/sdk';
import { graphApp, requireCredentials, SETTINGS } from '../../client.ts';
import { addressList, mailbox, recipients } from '../schemas.ts';

export interface SendMailInput {
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  body: string;
  contentType?: 'Text' | 'HTML';
  saveToSentItems?: boolean;
  attachments?: Array<{ atlas_file_id: string }>;
}

/** Graph's sendMail takes attachments inline up to about 3 MB in all (4 MB per request). */
const GRAPH_ATTACHMENTS_BYTES = 3 * 1024 * 1024;

export interface SendMailOutput {
  accepted: true;
  from: string;
}

export const outlookSendMail = defineAction<SendMailInput, SendMailOutput>({
  id: 'outlook.sendMail',
  description: 'Send an email from a mailbox through Microsoft Graph with the platform app (Mail.Send).',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['to', 'subject', 'body'],
    properties: {
      from: mailbox,
      to: { ...addressList, minItems: 1, description: 'Recipients.' },
      cc: addressList,
      bcc: addressList,
      replyTo: addressList,
      subject: { type: 'string', description: 'Subject line.' },
      body: { type: 'string', description: 'Message body.' },
      contentType: { enum: ['Text', 'HTML'], default: 'HTML', description: 'Body format.' },
      saveToSentItems: { type: 'boolean', default: true, description: 'Keep a copy in Sent Items.' },
      attachments: {
        type: 'array',
        maxItems: 20,
        description: "The tenant's files to attach (files.put, POST /v1/files), at most 3 MB in all.",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['atlas_file_id'],
          properties: {
            atlas_file_id: { type: 'string', description: "The id of one of the tenant's files." },
          },
        },
      },
    },
  },
  output: {
    type: 'object',
    required: ['accepted', 'from'],
    properties: {
      accepted: { const: true, description: 'Graph accepted the message (202); delivery is asynchronous.' },
      from: { type: 'string', description: 'The mailbox it was sent from.' },
    },
  },
  example: { accepted: true, from: 'noreply@contoso.com' },
  async run(ctx, input) {
    requireCredentials(ctx);
    // The app may send as any mailbox of the organisation: a tenant only as those assigned to it.
    const from = await platformMailbox(ctx, input.from, ctx.config.settings[SETTINGS.sender], 'send from');
    const attachments = await readAttachments(ctx, input.attachments ?? []);
    const message = {
      subject: input.subject,
      body: { contentType: input.contentType ?? 'HTML', content: input.body },
      toRecipients: recipients(input.to),
      ...(input.cc ? { ccRecipients: recipients(input.cc) } : {}),
      ...(input.bcc ? { bccRecipients: recipients(input.bcc) } : {}),
      ...(input.replyTo ? { replyTo: recipients(input.replyTo) } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    };
    // Graph answers 202 Accepted with no body; nothing to parse.
    await graphApp(ctx, (token) =>
      ctx.http.request({
        method: 'POST',
        url: `/users/${encodeURIComponent(from)}/sendMail`,
        headers: { authorization: `Bearer ${token}` },
        json: { message, saveToSentItems: input.saveToSentItems ?? true },
      }),
    );
    return { accepted: true, from };
  },
});

/** The tenant's files as Graph file attachments (base64 `contentBytes`). */
async function readAttachments(ctx: ActionContext, ids: Array<{ atlas_file_id: string }>) {
  if (ids.length === 0) return [];
  if (!ctx.files)
    throw ConnectorError.fatal('files_unavailable', 'file storage is not configured in this engine');
  const out: Array<Record<string, string>> = [];
  let total = 0;
  for (const { atlas_file_id } of ids) {
    const { info, bytes } = await ctx.files.read(atlas_file_id, Math.max(1, GRAPH_ATTACHMENTS_BYTES - total));
    total += bytes.byteLength;
    out.push({
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: info.name,
      contentType: info.contentType,
      contentBytes: Buffer.from(bytes).toString('base64'),
    });
  }
  return out;
}
