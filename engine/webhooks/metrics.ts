/**
 * Webhook metrics in prom-client's default registry (served by `GET /metrics`): deliveries by
 * route and outcome, rejections by reason, and the time to answer. Found again when a second
 * engine is made in the same process (tests, the bench).
 */
import { counter, timedEvents } from '../metrics.ts';

export type Outcome = 'accepted' | 'duplicate' | 'rejected';

export interface WebhookMetrics {
  delivered(route: string, outcome: Outcome, seconds: number): void;
  rejected(route: string, reason: string, status: number): void;
}

export function webhookMetrics(): WebhookMetrics {
  const delivered = timedEvents({
    count: [
      'atlas_webhook_deliveries_total',
      'Inbound webhook deliveries, by route and outcome (accepted, duplicate, rejected).',
    ],
    time: [
      'atlas_webhook_duration_seconds',
      'Time from receiving a webhook delivery to answering it, by route and outcome.',
    ],
    labels: ['route', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  const rejections = counter(
    'atlas_webhook_rejections_total',
    'Inbound webhook deliveries refused, by route, reason and HTTP status.',
    ['route', 'reason', 'status'],
  );
  return {
    delivered(route, outcome, seconds) {
      delivered({ route, outcome }, seconds);
    },
    rejected(route, reason, status) {
      rejections.inc({ route, reason, status: String(status) });
    },
  };
}
