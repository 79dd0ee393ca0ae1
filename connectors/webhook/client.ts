/**
 * Standard Webhooks signing, loaded on first use (connector modules import no SDK at top
 * level, so `atlas validate` stays fast).
 */
import { ConnectorError } from 'atlas-engine/sdk';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs `${id}.${timestamp}.${body}` with HMAC-SHA256 under the `whsec_` secret
 * (`webhook-signature: v1,<base64>`). A malformed secret is a configuration error: fatal.
 */
export async function signDelivery(
  secret: string,
  id: string,
  at: Date,
  body: string,
): Promise<SignedHeaders> {
  const { Webhook } = await import('standardwebhooks');
  let signature: string;
  try {
    signature = new Webhook(secret).sign(id, at, body);
  } catch (cause) {
    throw ConnectorError.fatal('invalid_secret', 'the webhook signing secret is not a valid whsec_ secret', {
      cause,
    });
  }
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
