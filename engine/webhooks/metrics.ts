/**
 * Webhook metrics in prom-client's default registry (served by `GET /metrics`): deliveries by
 * route and outcome, rejections by reason, and the time to answer. Found again when a second
 * engine is made in the same process (tests, the bench).
 */
import client from 'prom-client';

export type Outcome = 'accepted' | 'duplicate' | 'rejected';

export interface WebhookMetrics {
  delivered(route: string, outcome: Outcome, seconds: number): void;
  rejected(route: string, reason: string, status: number): void;
}

function metric<T extends client.Metric>(name: string, make: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? make();
}

export function webhookMetrics(): WebhookMetrics {
  const deliveries = metric(
    'atlas_webhook_deliveries_total',
    () =>
      new client.Counter({
        name: 'atlas_webhook_deliveries_total',
        help: 'Inbound webhook deliveries, by route and outcome (accepted, duplicate, rejected).',
        labelNames: ['route', 'outcome'],
      }),
  ) as client.Counter<'route' | 'outcome'>;
  const rejections = metric(
    'atlas_webhook_rejections_total',
    () =>
      new client.Counter({
        name: 'atlas_webhook_rejections_total',
        help: 'Inbound webhook deliveries refused, by route, reason and HTTP status.',
        labelNames: ['route', 'reason', 'status'],
      }),
  ) as client.Counter<'route' | 'reason' | 'status'>;
  const duration = metric(
    'atlas_webhook_duration_seconds',
    () =>
      new client.Histogram({
        name: 'atlas_webhook_duration_seconds',
        help: 'Time from receiving a webhook delivery to answering it, by route and outcome.',
        labelNames: ['route', 'outcome'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      }),
  ) as client.Histogram<'route' | 'outcome'>;
  return {
    delivered(route, outcome, seconds) {
      deliveries.inc({ route, outcome });
      duration.observe({ route, outcome }, seconds);
    },
    rejected(route, reason, status) {
      rejections.inc({ route, reason, status: String(status) });
    },
  };
}
