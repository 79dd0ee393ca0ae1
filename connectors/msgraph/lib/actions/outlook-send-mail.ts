import { defineAction, platformMailbox } from 'atlas-engine/sdk';
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
}

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
    const message = {
      subject: input.subject,
      body: { contentType: input.contentType ?? 'HTML', content: input.body },
      toRecipients: recipients(input.to),
      ...(input.cc ? { ccRecipients: recipients(input.cc) } : {}),
      ...(input.bcc ? { bccRecipients: recipients(input.bcc) } : {}),
      ...(input.replyTo ? { replyTo: recipients(input.replyTo) } : {}),
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
