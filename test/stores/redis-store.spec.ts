import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import {
  IdempotencyStoreConnectionError,
  type IdempotencyRecordId,
  type StoredResponse,
} from '../../lib/index.js';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { classifyRedisError } from '../../lib/stores/redis/redis-errors.js';
import { hashTagOf, recordKey } from '../../lib/stores/redis/redis-keys.js';
import {
  commandsOf,
  connectRedis,
  deleteKeys,
  keysWithPrefix,
  redisDescribe,
  REDIS_LABEL,
  uniquePrefix,
} from '../support/redis.js';

// The slot function ioredis routes Cluster commands with (CommonJS, no type declarations).
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

const ID: IdempotencyRecordId = { scope: 'POST /orders', principal: 'alice', key: 'key-1' };
const claimOf = (id: IdempotencyRecordId, lockTimeout = 60_000) => ({ ...id, fingerprint: 'fp', token: randomUUID(), lockTimeout });
const response = (body: Buffer | null): StoredResponse => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body });

/** Client options for an unreachable server: fail at once, close at once. */
const QUICK = { host: '127.0.0.1', maxRetriesPerRequest: 0, disconnectTimeout: 10 };

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const describeWithRedis = await redisDescribe();

describeWithRedis(`RedisIdempotencyStore on ${REDIS_LABEL}`, () => {
  const runPrefix = uniquePrefix();
  let redis: Redis;
  let tests = 0;
  /** A store on a prefix of its own, and that prefix. */
  const freshStore = () => {
    const prefix = `${runPrefix}${++tests}:`;
    return { prefix, store: new RedisIdempotencyStore(redis, { prefix }) };
  };

  beforeAll(async () => {
    redis = connectRedis();
    await redis.ping();
  });

  afterAll(async () => {
    await deleteKeys(redis, runPrefix);
    redis.disconnect();
  });

  it('puts every key of a record in the Cluster slot of its hash tag, whatever the key text', async () => {
    const texts = ['', 'a', '{', '}', '{}', '}{', '{a}', 'x{y}z', '{{}}', 'cl\u00e9 \u{1f511} \u65e5\u672c', '\u{10ffff}', '%_\\*?[]'];
    const ids: IdempotencyRecordId[] = [];
    for (const scope of texts) for (const principal of texts.slice(0, 6)) for (const key of texts) ids.push({ scope, principal, key: key || 'k' });
    for (let i = 0; i < 1_000; i++) ids.push({ scope: `POST /orders/{id}`, principal: `user-${i}`, key: `{${randomUUID()}}` });

    const slots = new Set<number>();
    const misplaced: string[] = [];
    for (const id of ids) {
      const tag = hashTagOf(id);
      // Hex: no brace can end or open the tag early, so the tag alone picks the slot, under any prefix.
      if (!/^[0-9a-f]{64}$/.test(tag)) misplaced.push(`tag ${tag}`);
      for (const prefix of ['idempotency:', '', 'app:prod:']) {
        const key = recordKey(prefix, id);
        if (key !== `${prefix}{${tag}}` || calculateSlot(key) !== calculateSlot(tag)) misplaced.push(key);
      }
      slots.add(calculateSlot(tag));
    }
    expect(misplaced).toEqual([]);
    // Records spread over the slots (1,000+ identities over 16,384 slots) instead of piling on one.
    expect(slots.size).toBeGreaterThan(900);

    // The store writes exactly that one key per record.
    const { prefix, store } = freshStore();
    const used = ids.slice(0, 30);
    for (const id of used) await store.claim(claimOf(id));
    expect(new Set(await keysWithPrefix(redis, prefix))).toEqual(new Set(used.map((id) => recordKey(prefix, id))));
  });

  it('refuses a prefix with a brace, which would put every record in one slot', () => {
    expect(() => new RedisIdempotencyStore(redis, { prefix: '{app}:' })).toThrow(/without "\{" or "\}"/);
  });

  it('round-trips a body of all 256 byte values exactly', async () => {
    const { store } = freshStore();
    const body = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const claim = claimOf(ID);
    await store.claim(claim);
    await expect(store.complete(ID, claim.token, response(body), 60_000)).resolves.toBe(true);
    const replay = await store.claim(claimOf(ID));
    expect(replay.claimed).toBe(false);
    const stored = !replay.claimed && replay.existing?.response?.body;
    expect(Buffer.isBuffer(stored) && stored.equals(body)).toBe(true);
  });

  it('expires a record by its key TTL: lockTimeout while processing, ttl once completed, at once for ttl 0', async () => {
    const { prefix, store } = freshStore();
    const key = recordKey(prefix, ID);
    const claim = claimOf(ID, 30_000);
    await store.claim(claim);
    let pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);

    await expect(store.extendLease(ID, claim.token, 45_000)).resolves.toBe(true);
    pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(40_000);
    expect(pttl).toBeLessThanOrEqual(45_000);

    await expect(store.complete(ID, claim.token, response(Buffer.from('done')), 120_000)).resolves.toBe(true);
    pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(115_000);
    expect(pttl).toBeLessThanOrEqual(120_000);

    const other = { ...ID, key: 'ttl-0' };
    const second = claimOf(other);
    await store.claim(second);
    await expect(store.complete(other, second.token, response(Buffer.from('gone')), 0)).resolves.toBe(true);
    await expect(redis.exists(recordKey(prefix, other))).resolves.toBe(0);
    await expect(store.purgeExpired(100)).resolves.toBe(0);
  });

  it('loads its scripts again after SCRIPT FLUSH (EVALSHA, NOSCRIPT, then EVAL)', async () => {
    const { store } = freshStore();
    await store.claim(claimOf({ ...ID, key: 'warm-up' }));
    // Another test run on this server may load the script again between FLUSH and the claim: try up to 3 times.
    let commands: string[][] = [];
    for (let attempt = 0; attempt < 3 && commands.length !== 3; attempt++) {
      commands = await commandsOf(redis, async () => {
        await redis.script('FLUSH');
        await expect(store.claim(claimOf({ ...ID, key: `flushed-${attempt}` }))).resolves.toEqual({ claimed: true });
      });
    }
    expect(commands.map(([name]) => name)).toEqual(['script', 'evalsha', 'eval']);
    // EVAL cached it again: the next call is one EVALSHA.
    const next = await commandsOf(redis, () => store.claim(claimOf(ID)));
    expect(next.map(([name]) => name)).toEqual(['evalsha']);
    await expect(store.claim(claimOf({ ...ID, key: 'after' }))).resolves.toEqual({ claimed: true });
  });

  // disconnectTimeout: ioredis's disconnect() of a socket that already failed would hold the process for 2 s.
  it.each([
    ['without an offline queue', (port: number) => new Redis({ port, lazyConnect: true, enableOfflineQueue: false, ...QUICK })],
    ['after its retries', (port: number) => new Redis({ port, ...QUICK })],
    ['that stopped reconnecting', (port: number) => new Redis({ port, retryStrategy: () => null, ...QUICK })],
    ['of a Cluster', (port: number) => new Cluster([{ port }], { clusterRetryStrategy: () => null, redisOptions: QUICK })],
  ])('rejects with IdempotencyStoreConnectionError when Redis is unreachable (a client %s)', async (_case, connect) => {
    const client = connect(await closedPort());
    client.on('error', () => undefined);
    try {
      const store = new RedisIdempotencyStore(client);
      const claim = store.claim(claimOf(ID));
      await expect(claim).rejects.toBeInstanceOf(IdempotencyStoreConnectionError);
      await expect(claim).rejects.toHaveProperty('cause');
      await expect(store.release(ID, 'token')).rejects.toBeInstanceOf(IdempotencyStoreConnectionError);
      await expect(store.verify()).rejects.toThrow(/cannot reach Redis .*Check the host, port/);
    } finally {
      client.disconnect();
    }
  });

  it('lets a permanent error pass through unchanged (a key of another type at the record key)', async () => {
    const { prefix, store } = freshStore();
    await redis.set(recordKey(prefix, ID), 'not a hash');
    const claim = store.claim(claimOf(ID));
    await expect(claim).rejects.toThrow(/WRONGTYPE/);
    await expect(claim).rejects.not.toBeInstanceOf(IdempotencyStoreConnectionError);
  });

  it.each([
    ['LOADING Redis is loading the dataset in memory', true],
    ["READONLY You can't write against a read only replica. script: abc, on @user_script:1.", true],
    ["ERR Error running script (call to f_abc): @user_script:1: -READONLY You can't write against a read only replica.", true],
    ['TRYAGAIN Multiple keys request during rehashing of slot', true],
    ['CLUSTERDOWN The cluster is down', true],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no', true],
    ['ERR max number of clients reached', true],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', false],
    ['NOAUTH Authentication required.', false],
    ["OOM command not allowed when used memory > 'maxmemory'.", false],
    ['BUSYKEY Target key name already exists.', false],
  ])('classifies the reply "%s" as an outage: %s', (message, outage) => {
    const error = Object.assign(new Error(message), { name: 'ReplyError' });
    const classified = classifyRedisError(error);
    expect(classified instanceof IdempotencyStoreConnectionError).toBe(outage);
    expect(outage ? (classified as Error).cause : classified).toBe(error);
  });

  it('costs one command per operation: claim, replay, extendLease, complete, release', async () => {
    // A SCRIPT FLUSH by another test run on this server would add a NOSCRIPT + EVAL: measure again then.
    let counted: Record<string, string[][]> = {};
    let key = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const flushes = await scriptFlushes(redis);
      const { prefix, store } = freshStore();
      // Every script cached (an earlier test flushed them).
      const warmUp = { ...ID, key: 'warm-up' };
      const first = claimOf(warmUp);
      await store.claim(first);
      await store.extendLease(warmUp, first.token, 60_000);
      await store.release(warmUp, first.token);
      await store.complete(warmUp, first.token, response(null), 60_000);
      key = recordKey(prefix, ID);
      const claim = claimOf(ID);
      counted = {
        claim: await commandsOf(redis, () => store.claim(claim)),
        'claim (in flight)': await commandsOf(redis, () => store.claim(claimOf(ID))),
        extendLease: await commandsOf(redis, () => store.extendLease(ID, claim.token, 60_000)),
        complete: await commandsOf(redis, () => store.complete(ID, claim.token, response(Buffer.from('{}')), 60_000)),
        'claim (replay)': await commandsOf(redis, () => store.claim(claimOf(ID))),
        release: await commandsOf(redis, () => store.release(ID, claim.token)),
      };
      if ((await scriptFlushes(redis)) === flushes) break;
    }
    for (const [operation, commands] of Object.entries(counted)) {
      // EVALSHA <sha> 1 <the record's key> ...: one command naming one key.
      const sent = commands.map(([name, , numkeys, firstKey]) => [name, numkeys, firstKey]);
      expect({ operation, sent }).toEqual({ operation, sent: [['evalsha', '1', key]] });
    }
    await expect(freshStore().store.verify()).resolves.toBeUndefined();
  });
});

/** How many SCRIPT FLUSH (Redis 7; any SCRIPT command before) the server ran so far. */
async function scriptFlushes(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/^cmdstat_script\|flush:calls=(\d+)/m.exec(stats)?.[1] ?? /^cmdstat_script:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}
