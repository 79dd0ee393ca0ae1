/**
 * An engine for the notification tests: the API served on 127.0.0.1, a fake Telegram Bot API
 * that the tenant's own bot reaches, a Standard Webhooks receiver, and helpers to read what
 * each fake received.
 */
import { createServer, type Server } from 'node:http';
import { mintToken } from '../../engine/auth/mint.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram, telegramParams } from '../fakes/telegram.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook.ts';
import { tenantRequest } from '../helpers/api.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine, type TestEngineOptions } from '../helpers/engine.ts';
import { closeServer } from '../http/harness.ts';

const JWT_SECRET = 'notify-test-jwt-secret-0123456789abcdef';
export const HOOK_SECRET = `whsec_${Buffer.from('notify-test-signing-key-32-bytes').toString('base64')}`;

/** WF-900 fails at its step `charge`, on its first (and only) attempt. */
export const FAILING = `apiVersion: atlas/v1
kind: Workflow
id: WF-900
trigger: { type: manual }
steps:
  - id: charge
    uses: core.fail
    with: { code: card_declined, message: the card was declined }
`;

export interface NotifyHarness {
  engine: TestEngine;
  telegram: FakeServer;
  receiver: WebhookReceiver;
  base: string;
  call(tenant: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** The texts the fake Telegram received with sendMessage, for one chat. */
  messages(chatId: number): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startNotifyHarness(
  database: TestDatabase,
  opts: TestEngineOptions = {},
): Promise<NotifyHarness> {
  const [telegram, receiver] = await Promise.all([
    startTelegram(BOT_TOKEN),
    startWebhookReceiver(HOOK_SECRET),
  ]);
  const engine = await startTestEngine(database, {
    tenants: ['acme', 'globex'],
    manifests: { 'wf-900.yaml': FAILING },
    ...opts,
    http: true,
    env: {
      ATLAS_JWT_SECRET: JWT_SECRET,
      ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
      ...opts.env,
    },
  }).catch(async (err: unknown) => {
    await Promise.all([telegram.close(), receiver.close()]);
    throw err;
  });
  for (const tenant of opts.tenants ?? ['acme', 'globex']) {
    await engine.services.secrets.put(tenant, 'TELEGRAM_BOT_TOKEN', BOT_TOKEN);
    await engine.services.secrets.put(tenant, 'HOOK_SECRET', HOOK_SECRET);
  }
  const server: Server = createServer(engine.engine.app!.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    engine,
    telegram,
    receiver,
    base,
    async call(tenant, method, path, body) {
      const token = await mintToken({
        secret: JWT_SECRET,
        sub: `${tenant}-user`,
        tenants: [tenant],
        ttlSeconds: 600,
      });
      return tenantRequest(`${base}${path}`, token, tenant, method, body);
    },
    async messages(chatId) {
      const out: string[] = [];
      for (const req of telegram.requests) {
        if (!req.path.endsWith('/sendMessage')) continue;
        const params = await telegramParams(req);
        if (params['chat_id'] === chatId) out.push(String(params['text']));
      }
      return out;
    },
    async stop() {
      await closeServer(server);
      await engine.stop();
      await Promise.all([telegram.close(), receiver.close()]);
    },
  };
}
