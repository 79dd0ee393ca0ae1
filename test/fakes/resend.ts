/**
 * A fake Resend API: `POST /emails` with `Authorization: Bearer re_...` → `{ id }`; errors as
 * `{ statusCode, name, message }`; `Idempotency-Key` replays return the first answer.
 */
import { type FakeReply, type FakeServer, json, startFake } from './server.ts';

export const RESEND_KEY = 're_123456789_abcdefghijklmnopqrstuv';

export function resendError(
  statusCode: number,
  name: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  return json(statusCode, { statusCode, name, message }, headers);
}

export interface ResendFake extends FakeServer {
  emails: Array<Record<string, unknown>>;
}

export async function startResend(): Promise<ResendFake> {
  const emails: Array<Record<string, unknown>> = [];
  const byKey = new Map<string, string>();
  const server = await startFake((req) => {
    if (req.path !== '/emails' || req.method !== 'POST')
      return resendError(404, 'not_found', 'The requested endpoint does not exist.');
    const auth = req.header('authorization');
    if (!auth) return resendError(401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (auth !== `Bearer ${RESEND_KEY}`) return resendError(403, 'invalid_api_key', 'API key is invalid.');
    const body = req.json() as Record<string, unknown>;
    if (!body['from'] || !Array.isArray(body['to']))
      return resendError(422, 'validation_error', 'The `from` field is required.');
    const key = req.header('idempotency-key');
    const existing = key ? byKey.get(key) : undefined;
    if (existing) return json(200, { id: existing });
    const id = `4ef9a417-02e9-4d39-ad75-9611e0fcc33${emails.length % 10}`;
    emails.push(body);
    if (key) byKey.set(key, id);
    return json(200, { id });
  });
  return Object.assign(server, { emails });
}
