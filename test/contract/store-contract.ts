import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type {
  ClaimRequest,
  ClaimResult,
  ExistingRecord,
  IdempotencyRecordId,
  IdempotencyStore,
  StoredResponse,
} from '../../lib/index.js';
import { IdempotencyConfigurationError } from '../../lib/index.js';

const LONG = 60_000;
const ID: IdempotencyRecordId = { scope: 'POST /orders', principal: 'alice', key: 'key-1' };

/** A claim of `id` with a fresh token; `lockTimeout` 0 makes a lease that has already run out. */
const claimOf = (id: IdempotencyRecordId, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  ...id,
  fingerprint: 'fp-1',
  token: randomUUID(),
  lockTimeout: LONG,
  ...overrides,
});

const response = (body: Buffer | null): StoredResponse => ({
  status: 201,
  headers: { 'content-type': 'application/json; charset=utf-8', location: '/orders/1', etag: 'W/"7-abc"' },
  body,
});

/** The record that stood in the way of a claim; fails the test when the claim succeeded. */
function existingOf(result: ClaimResult): ExistingRecord | null {
  if (result.claimed) throw new Error('expected the claim to be refused, but it claimed the record');
  return result.existing;
}

/** Where a store may differ, within the contract. */
export interface StoreContractOptions {
  /**
   * The backend deletes expired records by itself (Redis `PEXPIRE`): an
   * expired record is gone without a purge, and `purgeExpired()` resolves 0.
   */
  expiresByItself?: boolean;
  /** The store cannot wake waiters (MySQL/MariaDB): `watch()` rejects with the configuration error. */
  cannotWatch?: boolean;
  /** The store has no wait mode at all (DynamoDB): it has no `watch()`, so duplicates answer 409 at once. */
  withoutWatch?: boolean;
}

/**
 * The storage contract every {@link IdempotencyStore} must pass.
 * `createStore` returns a store holding no records; it is called before each test.
 */
export function describeStoreContract(
  name: string,
  createStore: () => IdempotencyStore | Promise<IdempotencyStore>,
  options: StoreContractOptions = {},
) {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let store: IdempotencyStore;

    /** Claims `id` once more (with a long lease) to read the record in its way. */
    const inspect = async (id: IdempotencyRecordId = ID) =>
      existingOf(await store.claim(claimOf(id, { fingerprint: 'probe' })));

    beforeEach(async () => {
      store = await createStore();
    });

    it('claims a key nobody holds', async () => {
      await expect(store.claim(claimOf(ID))).resolves.toEqual({ claimed: true });
    });

    it('refuses a second claim and returns the processing record with its fingerprint and remaining lease', async () => {
      await store.claim(claimOf(ID, { fingerprint: 'fp-first' }));
      const existing = existingOf(await store.claim(claimOf(ID, { fingerprint: 'fp-second' })));
      expect(existing).toMatchObject({ fingerprint: 'fp-first', status: 'processing', response: null });
      expect(existing!.expiresInMs).toBeGreaterThan(0);
      expect(existing!.expiresInMs).toBeLessThanOrEqual(LONG);
    });

    it.each([
      ['a JSON body', Buffer.from(JSON.stringify({ id: 1, name: 'caf\u00e9 \u{1f511}' }), 'utf8')],
      ['a binary body with bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x5c, 0x27])],
      ['an empty body', Buffer.alloc(0)],
      ['a null body (outcome not stored)', null],
    ])('completes a record with %s and returns status, headers and exact bytes to a later claim', async (_case, body) => {
      const claim = claimOf(ID);
      await store.claim(claim);
      await expect(store.complete(ID, claim.token, response(body), LONG)).resolves.toBe(true);

      const existing = await inspect();
      expect(existing).toMatchObject({ fingerprint: 'fp-1', status: 'completed' });
      expect(existing!.expiresInMs).toBeGreaterThan(0);
      expect(existing!.expiresInMs).toBeLessThanOrEqual(LONG);
      const stored = existing!.response!;
      expect({ status: stored.status, headers: stored.headers }).toEqual({ status: 201, headers: response(body).headers });
      if (body === null) {
        expect(stored.body).toBeNull();
      } else {
        expect(Buffer.isBuffer(stored.body)).toBe(true);
        expect(stored.body!.toString('hex')).toBe(body.toString('hex'));
      }
    });

    it('fences complete, release and extendLease: a wrong token gets false and changes nothing', async () => {
      const claim = claimOf(ID, { lockTimeout: 1_000 });
      await store.claim(claim);
      const stranger = randomUUID();
      await expect(store.complete(ID, stranger, response(Buffer.from('x')), LONG)).resolves.toBe(false);
      await expect(store.release(ID, stranger)).resolves.toBe(false);
      await expect(store.extendLease(ID, stranger, 3_600_000)).resolves.toBe(false);

      const existing = await inspect();
      expect(existing).toMatchObject({ fingerprint: 'fp-1', status: 'processing', response: null });
      expect(existing!.expiresInMs).toBeLessThanOrEqual(1_000);
      await expect(store.complete(ID, claim.token, response(Buffer.from('ok')), LONG)).resolves.toBe(true);
    });

    it('does not let a wrong token overwrite a completed record', async () => {
      const claim = claimOf(ID);
      await store.claim(claim);
      await store.complete(ID, claim.token, response(Buffer.from('original')), LONG);
      await expect(store.complete(ID, randomUUID(), response(Buffer.from('forged')), LONG)).resolves.toBe(false);
      expect((await inspect())!.response!.body!.toString()).toBe('original');
    });

    it('releases a record so that the next claim succeeds', async () => {
      const claim = claimOf(ID);
      await store.claim(claim);
      await expect(store.release(ID, claim.token)).resolves.toBe(true);
      await expect(store.claim(claimOf(ID))).resolves.toEqual({ claimed: true });
    });

    it('lets a new token take over a record whose lease ran out, and fences the old token out', async () => {
      const old = claimOf(ID, { lockTimeout: 0, fingerprint: 'fp-old' });
      await store.claim(old);
      const taker = claimOf(ID, { fingerprint: 'fp-new' });
      // `takenOver` is optional in the contract: a store that reports it says true here.
      expect([{ claimed: true }, { claimed: true, takenOver: true }]).toContainEqual(await store.claim(taker));

      await expect(store.complete(ID, old.token, response(Buffer.from('stale')), LONG)).resolves.toBe(false);
      await expect(store.release(ID, old.token)).resolves.toBe(false);
      await expect(store.extendLease(ID, old.token, LONG)).resolves.toBe(false);
      expect(await inspect()).toMatchObject({ fingerprint: 'fp-new', status: 'processing', response: null });
      await expect(store.complete(ID, taker.token, response(Buffer.from('fresh')), LONG)).resolves.toBe(true);
      expect((await inspect())!.response!.body!.toString()).toBe('fresh');
    });

    it('takes over a completed record past its ttl instead of replaying it', async () => {
      const first = claimOf(ID, { fingerprint: 'fp-old' });
      await store.claim(first);
      await store.complete(ID, first.token, response(Buffer.from('expired')), 0);
      await expect(store.claim(claimOf(ID, { fingerprint: 'fp-new' }))).resolves.toEqual({ claimed: true });
      expect(await inspect()).toMatchObject({ fingerprint: 'fp-new', status: 'processing', response: null });
    });

    it('extends the lease of a processing record', async () => {
      const claim = claimOf(ID, { lockTimeout: 1_000 });
      await store.claim(claim);
      await expect(store.extendLease(ID, claim.token, 3_600_000)).resolves.toBe(true);
      expect((await inspect())!.expiresInMs).toBeGreaterThan(LONG);
    });

    it('does not extend the lease of a completed record', async () => {
      const claim = claimOf(ID);
      await store.claim(claim);
      await store.complete(ID, claim.token, response(Buffer.from('done')), 1_000);
      await expect(store.extendLease(ID, claim.token, 3_600_000)).resolves.toBe(false);
      expect((await inspect())!.expiresInMs).toBeLessThanOrEqual(1_000);
    });

    /** Two leases that ran out, a completed record past its ttl, a live completed and a live processing record. */
    const recordsOfEveryAge = async (at: (key: string) => IdempotencyRecordId) => {
      for (const key of ['lease-over-1', 'lease-over-2']) await store.claim(claimOf(at(key), { lockTimeout: 0 }));
      const completedExpired = claimOf(at('ttl-over'));
      await store.claim(completedExpired);
      await store.complete(at('ttl-over'), completedExpired.token, response(Buffer.from('old')), 0);
      const completedLive = claimOf(at('completed-live'));
      await store.claim(completedLive);
      await store.complete(at('completed-live'), completedLive.token, response(Buffer.from('kept')), LONG);
      await store.claim(claimOf(at('processing-live')));
    };

    if (options.expiresByItself) {
      it('lets expired records go by themselves, so a purge finds none and keeps live records', async () => {
        const at = (key: string) => ({ ...ID, key });
        await recordsOfEveryAge(at);
        await expect(store.purgeExpired(10)).resolves.toBe(0);
        for (const key of ['lease-over-1', 'lease-over-2', 'ttl-over']) {
          // A store whose lapsed records are still there until the backend deletes them (DynamoDB's TTL) reports `takenOver`.
          expect([{ claimed: true }, { claimed: true, takenOver: key !== 'ttl-over' }]).toContainEqual(await store.claim(claimOf(at(key))));
        }
        expect(await inspect(at('completed-live'))).toMatchObject({ status: 'completed' });
        expect(await inspect(at('processing-live'))).toMatchObject({ status: 'processing' });
      });
    } else {
      it('purges only expired records, at most `limit` per call', async () => {
        const at = (key: string) => ({ ...ID, key });
        await recordsOfEveryAge(at);
        await expect(store.purgeExpired(2)).resolves.toBe(2);
        await expect(store.purgeExpired(10)).resolves.toBe(1);
        await expect(store.purgeExpired(10)).resolves.toBe(0);
        expect(await inspect(at('completed-live'))).toMatchObject({ status: 'completed' });
        expect(await inspect(at('processing-live'))).toMatchObject({ status: 'processing' });
      });
    }

    it.each([
      ['quotes and SQL', `'; DROP TABLE idempotency_records; --"`],
      ['LIKE wildcards and backslashes', '%_\\%\\_'],
      ['unicode', 'cl\u00e9 \u{1f511} \u65e5\u672c'],
    ])('stores keys, scopes and principals with %s exactly', async (_case, text) => {
      const id = { scope: `scope ${text}`, principal: `user ${text}`, key: text };
      const claim = claimOf(id);
      await expect(store.claim(claim)).resolves.toEqual({ claimed: true });
      await store.complete(id, claim.token, response(Buffer.from(text, 'utf8')), LONG);
      expect((await inspect(id))!.response!.body!.toString('utf8')).toBe(text);
      // Near misses are other records: no pattern matching, no case folding, no padding.
      for (const near of [text.slice(0, -1), text.toUpperCase(), `${text} `, text.replace(/[%_]/g, 'x')]) {
        if (near !== text) await expect(store.claim(claimOf({ ...id, key: near }))).resolves.toEqual({ claimed: true });
      }
    });

    it('keeps the same key in another scope or for another principal independent', async () => {
      const otherScope = { ...ID, scope: 'POST /refunds' };
      const otherPrincipal = { ...ID, principal: 'bob' };
      const anonymous = { ...ID, principal: '' };
      const claim = claimOf(ID, { fingerprint: 'fp-alice' });
      await store.claim(claim);
      await store.complete(ID, claim.token, response(Buffer.from('alice')), LONG);
      for (const id of [otherScope, otherPrincipal, anonymous]) {
        await expect(store.claim(claimOf(id, { fingerprint: `fp-${id.scope}-${id.principal}` }))).resolves.toEqual({
          claimed: true,
        });
      }
      expect(await inspect(otherPrincipal)).toMatchObject({ fingerprint: 'fp-POST /orders-bob', status: 'processing' });
      expect((await inspect(ID))!.response!.body!.toString()).toBe('alice');
    });

    it('lets exactly one of 20 concurrent claims of a key win', async () => {
      const claims = Array.from({ length: 20 }, (_, i) => claimOf(ID, { fingerprint: `fp-${i}` }));
      const results = await Promise.all(claims.map((claim) => store.claim(claim)));
      const winners = results.flatMap((result, i) => (result.claimed ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await inspect()).toMatchObject({ fingerprint: `fp-${winners[0]}`, status: 'processing' });
    });

    describe('operator API: find()', () => {
      /** `find` is optional in the interface; every store of this suite has it. */
      const find = (id: IdempotencyRecordId = ID) => store.find!(id);

      it('finds nothing for a key never claimed, or for the same key in another scope or of another principal', async () => {
        expect(await find()).toBeNull();
        await store.claim(claimOf(ID));
        expect(await find({ ...ID, scope: 'POST /refunds' })).toBeNull();
        expect(await find({ ...ID, principal: 'bob' })).toBeNull();
        expect(await find({ ...ID, principal: '' })).toBeNull();
      });

      it('finds a processing record with its token, fingerprint and remaining lease, and changes nothing', async () => {
        const claim = claimOf(ID, { lockTimeout: 30_000 });
        await store.claim(claim);
        const found = await find();
        expect(found).toMatchObject({ status: 'processing', token: claim.token, fingerprint: 'fp-1', responseStatus: null });
        expect(found!.expiresInMs).toBeGreaterThan(0);
        expect(found!.expiresInMs).toBeLessThanOrEqual(30_000);
        expect(await inspect()).toMatchObject({ fingerprint: 'fp-1', status: 'processing', response: null });
        await expect(store.complete(ID, claim.token, response(Buffer.from('ok')), LONG)).resolves.toBe(true);
      });

      it('finds a completed record with its stored status code and remaining ttl', async () => {
        const claim = claimOf(ID);
        await store.claim(claim);
        await store.complete(ID, claim.token, response(Buffer.from('done')), 20_000);
        const found = await find();
        expect(found).toMatchObject({ status: 'completed', token: claim.token, fingerprint: 'fp-1', responseStatus: 201 });
        expect(found!.expiresInMs).toBeGreaterThan(0);
        expect(found!.expiresInMs).toBeLessThanOrEqual(20_000);
      });

      it('finds no record whose lease ran out or whose ttl passed: claimable records are absent', async () => {
        await store.claim(claimOf(ID, { lockTimeout: 0 }));
        const completed = claimOf({ ...ID, key: 'ttl-over' });
        await store.claim(completed);
        await store.complete({ ...ID, key: 'ttl-over' }, completed.token, response(Buffer.from('old')), 0);
        expect(await find()).toBeNull();
        expect(await find({ ...ID, key: 'ttl-over' })).toBeNull();
      });

      it('forgets a completed record with release(id, found token), so the next claim runs again', async () => {
        const claim = claimOf(ID);
        await store.claim(claim);
        await store.complete(ID, claim.token, response(Buffer.from('done')), LONG);
        const found = await find();
        await expect(store.release(ID, found!.token)).resolves.toBe(true);
        expect(await find()).toBeNull();
        await expect(store.claim(claimOf(ID))).resolves.toEqual({ claimed: true });
      });

      it('fences a forget: a record claimed again between find and release is not deleted', async () => {
        const first = claimOf(ID, { fingerprint: 'fp-first' });
        await store.claim(first);
        await store.complete(ID, first.token, response(Buffer.from('first')), LONG);
        const found = await find();
        // Meanwhile the record goes (its owner releases it) and a retry claims the key anew.
        await store.release(ID, first.token);
        const retry = claimOf(ID, { fingerprint: 'fp-retry' });
        await expect(store.claim(retry)).resolves.toEqual({ claimed: true });

        await expect(store.release(ID, found!.token)).resolves.toBe(false);
        expect(await find()).toMatchObject({ status: 'processing', token: retry.token, fingerprint: 'fp-retry' });
      });
    });

    describe('wait mode: watch()', () => {
      const OTHER: IdempotencyRecordId = { ...ID, key: 'key-2' };
      type Closable = { close?(): Promise<void>; onApplicationShutdown?(): Promise<void> };
      afterEach(async () => {
        const closable = store as IdempotencyStore & Closable;
        await (closable.close?.() ?? closable.onApplicationShutdown?.());
      });

      if (options.withoutWatch) {
        it('has no watch()', () => {
          expect(store.watch).toBeUndefined();
        });
        return;
      }

      if (options.cannotWatch) {
        it('refuses to watch, naming the stores that can', async () => {
          await expect(store.watch!(ID)).rejects.toThrow(IdempotencyConfigurationError);
        });
        return;
      }

      it('wakes a watch when a completion of its record announces', async () => {
        const watch = await store.watch!(ID);
        const claim = claimOf(ID);
        await store.claim(claim);
        expect(await store.complete(ID, claim.token, response(Buffer.from('a')), LONG, true)).toBe(true);
        await watch.next();
        watch.close();
      });

      it('does not wake a watch for a write that does not announce, or for another record', async () => {
        const watch = await store.watch!(ID);
        const other = await store.watch!(OTHER);
        let woken = false;
        const heard = watch.next().then(() => (woken = true));
        const claim = claimOf(ID);
        await store.claim(claim);
        expect(await store.complete(ID, claim.token, response(Buffer.from('a')), LONG, false)).toBe(true);
        const otherClaim = claimOf(OTHER);
        await store.claim(otherClaim);
        expect(await store.release(OTHER, otherClaim.token, true)).toBe(true);
        // Announcements arrive in order: once OTHER's is heard, one for ID's completion would have been too.
        await other.next();
        expect(woken).toBe(false);
        expect(await store.release(ID, claim.token, true)).toBe(true);
        await heard;
        watch.close();
        other.close();
      });

      it('keeps an announcement made before next() is called, and wakes every watch of the record', async () => {
        const watches = await Promise.all([store.watch!(ID), store.watch!(ID), store.watch!(ID)]);
        const claim = claimOf(ID);
        await store.claim(claim);
        expect(await store.release(ID, claim.token, true)).toBe(true);
        await Promise.all(watches.map((watch) => watch.next()));
        for (const watch of watches) watch.close();
      });
    });

    it('lets exactly one of 20 concurrent claims take over an expired record', async () => {
      await store.claim(claimOf(ID, { lockTimeout: 0, fingerprint: 'fp-crashed' }));
      const claims = Array.from({ length: 20 }, (_, i) => claimOf(ID, { fingerprint: `fp-${i}` }));
      const results = await Promise.all(claims.map((claim) => store.claim(claim)));
      const winners = results.flatMap((result, i) => (result.claimed ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await inspect()).toMatchObject({ fingerprint: `fp-${winners[0]}`, status: 'processing' });
    });
  });
}
