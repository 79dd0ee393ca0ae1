/**
 * Events counted and timed together (HTTP requests, webhook deliveries): one counter and one
 * histogram in the default registry, found again when a second engine is made.
 */
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { timedEvents } from '../../engine/metrics.ts';

describe('timedEvents', () => {
  it('counts each event by all its labels and times it by the labels named for the time', async () => {
    const spec = {
      count: ['atlas_test_things_total', 'Things done.'],
      time: ['atlas_test_thing_seconds', 'Time to do a thing.'],
      labels: ['kind', 'status'],
      timedBy: ['kind'],
      buckets: [0.1, 1],
    } as const;
    const observe = timedEvents(spec);
    observe({ kind: 'a', status: '200' }, 0.05);
    // A second engine in the same process finds the same metrics.
    timedEvents(spec)({ kind: 'a', status: '500' }, 0.5);
    const text = await client.register.metrics();
    expect(text).toContain('atlas_test_things_total{kind="a",status="200"} 1');
    expect(text).toContain('atlas_test_things_total{kind="a",status="500"} 1');
    expect(text).toContain('atlas_test_thing_seconds_bucket{le="0.1",kind="a"} 1');
    expect(text).toContain('atlas_test_thing_seconds_count{kind="a"} 2');
  });
});
