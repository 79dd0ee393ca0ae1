/**
 * Prometheus metrics in prom-client's default registry, which the runtime's metrics share.
 * Metrics are created on first use, not at import, and found again when a second app is
 * made in the same process (tests, the bench).
 */
import client from 'prom-client';
import { timedEvents } from '../metrics.ts';

export interface HttpMetrics {
  observe(labels: { method: string; route: string; status: number }, seconds: number): void;
}

export function httpMetrics(): HttpMetrics {
  const { register } = client;
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) client.collectDefaultMetrics({ register });
  const answered = timedEvents({
    count: ['atlas_http_requests_total', 'HTTP requests answered, by method, route template and status.'],
    time: [
      'atlas_http_request_duration_seconds',
      'Time to answer an HTTP request, by method and route template.',
    ],
    labels: ['method', 'route', 'status'],
    timedBy: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  return {
    observe({ method, route, status }, seconds) {
      answered({ method, route, status: String(status) }, seconds);
    },
  };
}

export function metricsText(): Promise<string> {
  return client.register.metrics();
}

export const METRICS_CONTENT_TYPE = client.register.contentType;
