import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, defineAction } from 'atlas-engine/sdk';
import { attachmentsSchema, type Mail, resendKey, sendWithResend } from '../../client.ts';

export interface SendInput extends Mail {
  /** Force one provider (tests, or a tenant without Graph). */
  provider?: 'msgraph' | 'resend';
}

export interface SendOutput {
  provider: 'msgraph' | 'resend';
  /** True when Graph was tried and failed, and Resend sent it instead. */
  degraded: boolean;
  id?: string;
  graphError?: string;
}

const addresses = { type: 'array', items: { type: 'string', format: 'email' } };

export const send = defineAction<SendInput, SendOutput>({
  id: 'send',
  description:
    'Send an email: Microsoft Graph first; Resend when Graph is not configured or fails retryably (degraded mode).',
  jobType: 'EMAIL_SEND',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['to', 'subject'],
    anyOf: [{ required: ['html'] }, { required: ['text'] }],
    properties: {
      from: {
        type: 'string',
        description: 'Sender: the Graph mailbox, or a Resend `Name <addr>`; defaults from settings.',
      },
      to: { ...addresses, minItems: 1, description: 'Recipients.' },
      cc: { ...addresses, description: 'Copy recipients.' },
      bcc: { ...addresses, description: 'Blind copy recipients.' },
      replyTo: { ...addresses, description: 'Reply-To addresses.' },
      subject: { type: 'string', description: 'Subject line.' },
      html: { type: 'string', description: 'HTML body.' },
      text: { type: 'string', description: 'Plain-text body (used when no HTML is given).' },
      attachments: attachmentsSchema,
      provider: { enum: ['msgraph', 'resend'], description: 'Use only this provider.' },
    },
  },
  output: {
    type: 'object',
    required: ['provider', 'degraded'],
    properties: {
      provider: { enum: ['msgraph', 'resend'], description: 'Which provider accepted the email.' },
      degraded: { type: 'boolean', description: 'Graph failed and Resend was used instead.' },
      id: { type: 'string', description: 'Resend email id (Graph returns none).' },
      graphError: { type: 'string', description: 'Why Graph was skipped, in degraded mode.' },
    },
  },
  async run(ctx, input) {
    const { provider, ...mail } = input;
    if (provider === 'resend') return viaResend(ctx, mail, false);
    let graphError: ConnectorError;
    try {
      await viaGraph(ctx, mail);
      return { provider: 'msgraph', degraded: false };
    } catch (err) {
      if (!(err instanceof ConnectorError) || provider === 'msgraph') throw err;
      // A fatal Graph answer (bad recipient, no such mailbox) would fail on Resend too.
      if (err.code !== 'not_configured' && !err.retryable) throw err;
      graphError = err;
    }
    const key = await resendKey(ctx);
    if (!key) throw graphError;
    const degraded = graphError.code !== 'not_configured';
    if (degraded)
      ctx.log.warn(
        { code: graphError.code, status: graphError.status },
        'email: Graph failed, sending with Resend',
      );
    return {
      ...(await viaResend(ctx, mail, degraded)),
      ...(degraded ? { graphError: graphError.code } : {}),
    };
  },
});

async function viaGraph(ctx: ActionContext, mail: Mail): Promise<void> {
  if (!ctx.callAction)
    throw ConnectorError.fatal('not_configured', 'email: no Graph connector in this context');
  await ctx.callAction('msgraph.outlook.sendMail', {
    ...(mail.from ? { from: mail.from } : {}),
    to: mail.to,
    ...(mail.cc ? { cc: mail.cc } : {}),
    ...(mail.bcc ? { bcc: mail.bcc } : {}),
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    body: mail.html ?? mail.text ?? '',
    contentType: mail.html === undefined ? 'Text' : 'HTML',
    ...(mail.attachments?.length ? { attachments: mail.attachments } : {}),
  });
}

async function viaResend(ctx: ActionContext, mail: Mail, degraded: boolean): Promise<SendOutput> {
  const key = await resendKey(ctx);
  if (!key)
    throw ConnectorError.fatal(
      'not_configured',
      "email: RESEND_API_KEY is not set as a tenant secret, and the platform's is not offered to tenants (ATLAS_PLATFORM_CREDENTIALS)",
    );
  return { provider: 'resend', degraded, id: await sendWithResend(ctx, key, mail) };
}
