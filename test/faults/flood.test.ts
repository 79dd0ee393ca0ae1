/**
 * A CI-sized webhook flood (the full size is `npm run flood`): 2,000 Stripe-signed deliveries,
 * 30% of them sent twice, while the API process is SIGKILLed and started again twice. Every
 * delivery answered 2xx has exactly one event row and one run; duplicates start nothing.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { flood } from './flood-kit.ts';

describe('a webhook flood through two kills of the API process', () => {
  const database = useTestDatabase();

  it('keeps one event row and one run per accepted delivery, and starts nothing for duplicates', async () => {
    const result = await flood({
      deliveries: 2_000,
      duplicates: 0.3,
      kills: 2,
      concurrency: 16,
      databaseUrl: database.url,
    });
    console.log(
      `flood: ${JSON.stringify({ ...result, doubled: result.doubled.length, lost: result.lost.length })}`,
    );
    expect(result.restartSeconds).toHaveLength(2);
    expect(result.distinctAccepted).toBe(2_000);
    expect(result.doubled).toEqual([]);
    expect(result.lost).toEqual([]);
    expect(result.eventRows).toBe(2_000);
    expect(result.runs).toBe(2_000);
    expect(result.answered2xx).toBe(2_600);
  }, 600_000);
});
