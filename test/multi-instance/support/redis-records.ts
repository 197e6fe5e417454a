import type { Redis } from 'ioredis';
import { recordKey } from '../../../lib/stores/redis/redis-keys.js';
import { connectRedis, deleteKeys, keysWithPrefix, REDIS_LABEL } from '../../support/redis.js';
import type { SharedStore, StoredRecordView } from './shared-store.js';

/** `PEXPIRE KEYS[1] 1` when the hash is a `processing` record; replies 1, else 0. */
const END_LEASE = `
if redis.call('HGET', KEYS[1], 'state') ~= 'processing' then return 0 end
return redis.call('PEXPIRE', KEYS[1], 1)
`;

/**
 * A record of the Redis store as the tests inspect it: the hash its scripts
 * write, and its key's TTL as `endsInMs` (Redis deletes the record then).
 */
export interface RedisRecordView extends StoredRecordView {
  fingerprint: string;
}

/**
 * The tests' view of the records a `RedisIdempotencyStore` keeps under one
 * prefix (the worker's `REDIS_PREFIX`), on a client of the test's own.
 */
export class RedisRecords implements SharedStore {
  readonly label = `one Redis at ${REDIS_LABEL}`;
  readonly workerEnv: Record<string, string>;

  constructor(
    private readonly redis: Redis,
    url: string,
    readonly prefix: string,
    private readonly scope = 'effects',
  ) {
    this.workerEnv = { STORE: 'redis', REDIS_URL: url, REDIS_PREFIX: prefix };
  }

  /** Connects to the Redis at `url` for the records under `prefix`; `close()` deletes them. */
  static open(url: string, prefix: string): RedisRecords {
    return new RedisRecords(connectRedis(), url, prefix);
  }

  /** The record of `key` (of `principal`, in this scope), or `undefined` when Redis holds none. */
  async record(key: string, principal = ''): Promise<RedisRecordView | undefined> {
    const id = recordKey(this.prefix, { scope: this.scope, principal, key });
    const [[, fields], [, pttl]] = (await this.redis.pipeline().hgetallBuffer(id).pttl(id).exec()) as [
      [Error | null, Record<string, Buffer>],
      [Error | null, number],
    ];
    if (Object.keys(fields).length === 0) return undefined;
    return {
      state: fields.state?.toString() as RedisRecordView['state'],
      token: fields.token?.toString() ?? '',
      fingerprint: fields.fingerprint?.toString() ?? '',
      body: fields.body ?? null,
      endsInMs: pttl,
    };
  }

  /**
   * Ends the lease of the `processing` record of `key` now, as if its owner had
   * stalled past `lockTimeout`: its key's TTL is set to 1 ms, so Redis expires
   * it and the next claim takes the key over. A completed record is left alone.
   * @returns whether a processing record was there to end.
   */
  async endLease(key: string, principal = ''): Promise<boolean> {
    const id = recordKey(this.prefix, { scope: this.scope, principal, key });
    const ended = await this.redis.eval(END_LEASE, 1, id);
    return ended === 1;
  }

  /**
   * Every record under the prefix (any scope, any principal) that is still
   * `processing`, with what is left of its lease (its PTTL): found by SCAN,
   * read hash by hash. A record of one of `keys` (anonymous, this scope) is
   * named by that key, any other by its Redis key. Once traffic has ended, any
   * is a stuck key.
   */
  async processing(keys: string[] = []): Promise<{ record: string; endsInMs: number }[]> {
    const names = new Map(keys.map((key) => [recordKey(this.prefix, { scope: this.scope, principal: '', key }), key]));
    const ids = await keysWithPrefix(this.redis, this.prefix);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(id, 'state').pttl(id);
    const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    return ids
      .map((id, i) => ({ id, state: replies[2 * i] as string | null, pttl: replies[2 * i + 1] as number }))
      .filter(({ state }) => state === 'processing')
      .map(({ id, pttl }) => ({ record: names.get(id) ?? id, endsInMs: pttl }));
  }

  /** How many keys Redis holds under the prefix. */
  async count(): Promise<number> {
    return (await keysWithPrefix(this.redis, this.prefix)).length;
  }

  /** Deletes every key under the prefix, then disconnects. */
  async close(): Promise<void> {
    try {
      await deleteKeys(this.redis, this.prefix);
    } finally {
      this.redis.disconnect();
    }
  }
}
