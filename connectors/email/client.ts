/**
 * Resend's HTTP API (https://resend.com/docs/api-reference/emails/send-email):
 * `POST /emails` with `Authorization: Bearer re_...` and an `Idempotency-Key`, answers
 * `{ id }`; errors are `{ statusCode, name, message }` (e.g. `validation_error`,
 * `rate_limit_exceeded`, `invalid_api_key`).
 */

import type { ActionContext, ConnectorErrorInit, Credential } from 'atlas-engine/sdk';
import {
  ConnectorError,
  credential,
  expectRecord,
  expectString,
  isRecord,
  platformMailbox,
} from 'atlas-engine/sdk';

export const RESEND_KEY = 'RESEND_API_KEY';
export const RESEND_FROM = 'RESEND_FROM';

export interface Mail {
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  html?: string;
  text?: string;
  /** The tenant's files to attach, by id. */
  attachments?: Array<{ atlas_file_id: string }>;
}

/** Resend accepts up to 40 MB per email after base64 encoding. */
const RESEND_ATTACHMENTS_BYTES = 30 * 1024 * 1024;

/** The schema of `attachments` in email inputs: the tenant's files by id. */
export const attachmentsSchema = {
  type: 'array',
  maxItems: 20,
  description: "The tenant's files to attach (files.put, POST /v1/files).",
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['atlas_file_id'],
    properties: { atlas_file_id: { type: 'string', description: "The id of one of the tenant's files." } },
  },
};

/** Reads the attachments of a mail, at most `limit` bytes in all. */
export async function readAttachments(
  ctx: ActionContext,
  attachments: Array<{ atlas_file_id: string }>,
  limit: number,
): Promise<Array<{ name: string; contentType: string; base64: string }>> {
  if (attachments.length === 0) return [];
  if (!ctx.files)
    throw ConnectorError.fatal('files_unavailable', 'file storage is not configured in this engine');
  const out: Array<{ name: string; contentType: string; base64: string }> = [];
  let total = 0;
  for (const { atlas_file_id } of attachments) {
    const { info, bytes } = await ctx.files.read(atlas_file_id, Math.max(1, limit - total));
    total += bytes.byteLength;
    out.push({
      name: info.name,
      contentType: info.contentType,
      base64: Buffer.from(bytes).toString('base64'),
    });
  }
  return out;
}

/** The tenant's own Resend key, else the platform's when the operator offers it. */
export function resendKey(ctx: ActionContext): Promise<Credential | undefined> {
  return credential(ctx, RESEND_KEY);
}

export async function sendWithResend(ctx: ActionContext, key: Credential, mail: Mail): Promise<string> {
  // The platform's key sends for the platform's domains: a tenant only as its assigned mailboxes.
  const from = key.platform
    ? await platformMailbox(ctx, mail.from, ctx.config.settings[RESEND_FROM], 'send from')
    : (mail.from ?? ctx.config.settings[RESEND_FROM]);
  if (!from) throw ConnectorError.fatal('sender_missing', `email: give "from" or set ${RESEND_FROM}`);
  const attachments = await readAttachments(ctx, mail.attachments ?? [], RESEND_ATTACHMENTS_BYTES);
  const res = await ctx.http.request({
    method: 'POST',
    url: '/emails',
    // Resend keeps idempotency keys for 24 hours: a retried step does not send twice.
    headers: { authorization: `Bearer ${key.value}`, 'idempotency-key': ctx.idempotencyKey },
    json: {
      from,
      to: mail.to,
      subject: mail.subject,
      ...(mail.html === undefined ? {} : { html: mail.html }),
      ...(mail.text === undefined ? {} : { text: mail.text }),
      ...(mail.cc ? { cc: mail.cc } : {}),
      ...(mail.bcc ? { bcc: mail.bcc } : {}),
      ...(mail.replyTo ? { reply_to: mail.replyTo } : {}),
      ...(attachments.length > 0
        ? {
            attachments: attachments.map((a) => ({
              filename: a.name,
              content: a.base64,
              content_type: a.contentType,
            })),
          }
        : {}),
    },
  });
  return expectString(expectRecord(res.json(), 'resend email'), 'id', 'resend email');
}

/** Resend answers an invalid key with 403 `invalid_api_key`: that is an auth problem. */
export function mapResendError(status: number, body: unknown): Partial<ConnectorErrorInit> | undefined {
  if (!isRecord(body) || typeof body['name'] !== 'string') return undefined;
  const name = body['name'];
  const message =
    typeof body['message'] === 'string' ? `resend: ${name}: ${body['message']}` : `resend: ${name}`;
  if (name === 'invalid_api_key' || name === 'missing_api_key' || name === 'restricted_api_key') {
    return { kind: 'auth', code: name, message };
  }
  return { code: status === 429 ? 'rate_limited' : name, message };
}
