/**
 * A webhook receiver that verifies Standard Webhooks signatures with the reference
 * `standardwebhooks` package, as a customer's endpoint would, and answers 204 when valid.
 */
import { Webhook } from 'standardwebhooks';
import { type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export interface WebhookReceiver extends FakeServer {
  /** Verified payloads, in arrival order. */
  verified: unknown[];
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const verified: unknown[] = [];
  const verifier = new Webhook(secret);
  const server = await startFake((req: RecordedRequest) => {
    try {
      const headers = {
        'webhook-id': req.header('webhook-id') ?? '',
        'webhook-timestamp': req.header('webhook-timestamp') ?? '',
        'webhook-signature': req.header('webhook-signature') ?? '',
      };
      verified.push(verifier.verify(req.text(), headers));
      return { status: 204 };
    } catch {
      return json(400, { error: 'invalid signature' });
    }
  });
  return Object.assign(server, { verified });
}
