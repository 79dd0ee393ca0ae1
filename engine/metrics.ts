/**
 * The process's Prometheus metrics live in prom-client's default registry (served at
 * `/metrics`). A metric is made on first use and found again when a second engine is made in
 * the same process (tests, the bench): these two factories are the only way to make one.
 */
import client from 'prom-client';

function registered<T>(name: string, make: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? make();
}

export function counter<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
): client.Counter<L> {
  return registered(name, () => new client.Counter({ name, help, labelNames }));
}

export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): client.Histogram<L> {
  return registered(name, () => new client.Histogram({ name, help, labelNames, buckets }));
}
