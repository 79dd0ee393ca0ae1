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

export interface TimedEventsSpec<L extends string, T extends L> {
  /** The counter's name and help. */
  count: readonly [name: string, help: string];
  /** The duration histogram's name and help (seconds). */
  time: readonly [name: string, help: string];
  /** The counter's labels. */
  labels: readonly L[];
  /** The histogram's labels: all of `labels` unless named. */
  timedBy?: readonly T[];
  buckets: readonly number[];
}

/** Events counted and timed together: the function it returns counts one and records its seconds. */
export function timedEvents<L extends string, T extends L = L>(
  spec: TimedEventsSpec<L, T>,
): (labels: Record<L, string>, seconds: number) => void {
  const count = counter(spec.count[0], spec.count[1], spec.labels);
  // Without `timedBy`, T is L (its default): the histogram takes every label.
  const timedBy = spec.timedBy ?? (spec.labels as readonly T[]);
  const time = histogram(spec.time[0], spec.time[1], timedBy, [...spec.buckets]);
  return (labels, seconds) => {
    count.inc(labels);
    const timeLabels = {} as Record<T, string>;
    for (const label of timedBy) timeLabels[label] = labels[label];
    time.observe(timeLabels, seconds);
  };
}
