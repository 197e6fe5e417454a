import { describe, expect, it } from '@jest/globals';
import { IdempotencyStoreConnectionError, InMemoryIdempotencyStore } from '../../lib/index.js';

const claimOf = (key: string, lockTimeout = 60_000) => ({
  scope: 's',
  principal: '',
  key,
  fingerprint: '',
  token: `token-${key}`,
  lockTimeout,
});
const response = { status: 200, headers: {}, body: Buffer.from('{}') };

/** The in-memory store is bounded: a long-running process cannot grow it without limit. */
describe('InMemoryIdempotencyStore bounds', () => {
  it('never holds more than maxRecords: expired records go first, then the oldest completed', async () => {
    const store = new InMemoryIdempotencyStore({ maxRecords: 10 });
    for (let i = 0; i < 10; i++) {
      await store.claim(claimOf(`k${i}`, i < 3 ? 0 : 60_000)); // k0..k2 have leases that already ran out
      if (i >= 3) await store.complete({ scope: 's', principal: '', key: `k${i}` }, `token-k${i}`, response, 60_000);
    }
    expect(store.size).toBe(10);
    await expect(store.claim(claimOf('new'))).resolves.toEqual({ claimed: true });
    expect(store.size).toBeLessThanOrEqual(10);
    // The expired ones were evicted, then the oldest completed down to 90%: k3 and k4 are gone, k9 is kept.
    for (const key of ['k0', 'k1', 'k2', 'k3']) await expect(store.claim(claimOf(key))).resolves.toEqual({ claimed: true });
    const kept = await store.claim(claimOf('k9'));
    expect(kept).toMatchObject({ claimed: false, existing: { status: 'completed' } });
  });

  it('refuses a new claim as unreachable when every record is in flight, and keeps them', async () => {
    const store = new InMemoryIdempotencyStore({ maxRecords: 3 });
    for (const key of ['a', 'b', 'c']) await store.claim(claimOf(key));
    await expect(store.claim(claimOf('d'))).rejects.toBeInstanceOf(IdempotencyStoreConnectionError);
    await expect(store.claim(claimOf('a'))).resolves.toMatchObject({ claimed: false, existing: { status: 'processing' } });
  });

  it('rejects a maxRecords that is not a positive integer', () => {
    expect(() => new InMemoryIdempotencyStore({ maxRecords: 0 })).toThrow(/maxRecords must be a positive integer/);
  });
});
