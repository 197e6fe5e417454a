import type { OnApplicationShutdown } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';
import { IdempotencyStoreConnectionError } from '../../errors/idempotency-store-connection.error.js';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  IdempotencyStore,
  RecordWatch,
  StoredResponse,
} from '../../interfaces/idempotency-store.interface.js';
import { RedisAnnouncements } from './redis-announcements.js';
import { classifyRedisError } from './redis-errors.js';
import { assertValidPrefix, DEFAULT_REDIS_PREFIX, recordKey } from './redis-keys.js';
import { CLAIM, COMPLETE, EXTEND_LEASE, FIND, RELEASE, runScript, type RedisScript } from './redis-scripts.js';

/** Options of {@link RedisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /**
   * Prefix of every key the store writes, e.g. to share a Redis with other
   * data or to separate environments. Must not contain `{` or `}`: the store
   * adds its own hash tag per record. Default `'idempotency:'`.
   */
  prefix?: string;
}

/** The oldest Redis the store supports. */
const MIN_VERSION = [6, 2] as const;

/** The reply of the claim script: `[1]`, or `[0, pttl, fingerprint, state, status, headers, body]`. */
type ClaimReply = [1] | [0, number, Buffer | null, Buffer | null, Buffer | null, Buffer | null, Buffer | null];

/** The reply of the find script: `[0]`, or `[1, pttl, token, fingerprint, state, status]`. */
type FindReply = [0] | [1, number, Buffer | null, Buffer | null, Buffer | null, Buffer | null];

/**
 * {@link IdempotencyStore} on Redis (standalone, Sentinel or Cluster) through
 * an `ioredis` client the application created, opens and closes.
 *
 * Every operation is one Lua script call: one round trip (claim, complete,
 * release, extendLease; a replay is one claim). After the server lost its
 * script cache (restart, failover, `SCRIPT FLUSH`) the first call of each
 * script costs one more (`NOSCRIPT`, then `EVAL`). A record is one hash at
 * `<prefix>{<SHA-256 of its identity>}`, so it maps to one Cluster slot.
 * Expiry is Redis's own (`PEXPIRE`): a processing record lives `lockTimeout`
 * ms, a completed one `ttl` ms, so `purgeExpired()` has nothing to do. Time
 * is the server's (key TTLs), never the app's clock.
 *
 * Replication is asynchronous: a failover may lose the last claims and
 * completions (see the README). Connection failures, and replies of a server
 * that cannot serve now (LOADING, READONLY, TRYAGAIN, CLUSTERDOWN), are thrown
 * as `IdempotencyStoreConnectionError`.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisIdempotencyStore } from 'nestjs-idempotency/redis';
 *
 * IdempotencyModule.forRoot({ store: new RedisIdempotencyStore(new Redis(process.env.REDIS_URL!)) });
 */
export class RedisIdempotencyStore implements IdempotencyStore, OnApplicationShutdown {
  private readonly prefix: string;
  private readonly announcements: RedisAnnouncements;

  /**
   * @param redis an ioredis `Redis` or `Cluster` client; the store never
   *   connects, reconfigures or closes it.
   */
  constructor(
    private readonly redis: Redis | Cluster,
    options: RedisIdempotencyStoreOptions = {},
  ) {
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    assertValidPrefix(prefix);
    this.prefix = prefix;
    this.announcements = new RedisAnnouncements(redis, `${prefix}settled`);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { fingerprint, token, lockTimeout } = request;
    const reply = (await this.run(CLAIM, request, [fingerprint, token, milliseconds(lockTimeout)])) as ClaimReply;
    if (reply[0] === 1) return { claimed: true };
    const [, pttl, storedFingerprint, state, status, headers, body] = reply;
    const completed = state?.toString() === 'completed';
    return {
      claimed: false,
      existing: {
        fingerprint: storedFingerprint?.toString('utf8') ?? '',
        status: completed ? 'completed' : 'processing',
        expiresInMs: pttl,
        response:
          completed && status !== null
            ? { status: Number(status.toString()), headers: headers ? JSON.parse(headers.toString('utf8')) : {}, body }
            : null,
      },
    };
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce = false): Promise<boolean> {
    const { status, headers, body } = response;
    const args = [token, String(status), JSON.stringify(headers), milliseconds(ttl), body ? '1' : '0', body ?? '', this.channel(announce)];
    return (await this.run(COMPLETE, id, args)) === 1;
  }

  async release(id: IdempotencyRecordId, token: string, announce = false): Promise<boolean> {
    return (await this.run(RELEASE, id, [token, this.channel(announce)])) === 1;
  }

  /** Wait mode: pub/sub on `<prefix>settled`, one subscriber connection of the store's own (see {@link close}). */
  async watch(id: IdempotencyRecordId): Promise<RecordWatch> {
    return this.announcements.watch(recordKey(this.prefix, id));
  }

  /** Closes the store's subscriber connection (wait mode), if it opened one; never the application's client. */
  async close(): Promise<void> {
    await this.announcements.close();
  }

  /** Called by Nest at shutdown: {@link close}. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    return (await this.run(EXTEND_LEASE, id, [token, milliseconds(lockTimeout)])) === 1;
  }

  /** Operator API: one script call; a record Redis expired (its TTL, the server's clock) is a missing key. */
  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    const reply = (await this.run(FIND, id, [])) as FindReply;
    if (reply[0] === 0) return null;
    const [, pttl, token, fingerprint, state, status] = reply;
    const completed = state?.toString() === 'completed';
    return {
      status: completed ? 'completed' : 'processing',
      token: token?.toString('utf8') ?? '',
      fingerprint: fingerprint?.toString('utf8') ?? '',
      expiresInMs: pttl,
      responseStatus: completed && status !== null ? Number(status.toString()) : null,
    };
  }

  /** Resolves 0: Redis deletes expired records by itself (`PEXPIRE`). */
  async purgeExpired(_limit: number): Promise<number> {
    return 0;
  }

  /**
   * Checks at startup that Redis answers and runs 6.2 or newer (`INFO server`).
   * A server that refuses `INFO` (ACL, renamed command) is not version-checked.
   * @throws IdempotencyStoreConnectionError when Redis is unreachable.
   * @throws IdempotencyConfigurationError when it is too old or refuses the client.
   */
  async verify(): Promise<void> {
    let info: string;
    try {
      info = await this.redis.info('server');
    } catch (error) {
      const classified = classifyRedisError(error);
      const message = error instanceof Error ? error.message : String(error);
      if (classified instanceof IdempotencyStoreConnectionError) {
        throw new IdempotencyStoreConnectionError(
          `RedisIdempotencyStore cannot reach Redis (${message}). Check the host, port, TLS and credentials of the ioredis ` +
            'client passed to it, and that the server is running.',
          { cause: error },
        );
      }
      if (/^(NOPERM|ERR unknown command)/.test(message)) return;
      throw new IdempotencyConfigurationError(
        `RedisIdempotencyStore: Redis refused INFO (${message}). Check the credentials of the ioredis client passed to it.`,
      );
    }
    const version = /^redis_version:(\d+)\.(\d+)/m.exec(info);
    if (version && Number(version[1]) * 100 + Number(version[2]) < MIN_VERSION[0] * 100 + MIN_VERSION[1]) {
      throw new IdempotencyConfigurationError(
        `RedisIdempotencyStore needs Redis ${MIN_VERSION.join('.')} or newer; the server runs ${version[1]}.${version[2]}. ` +
          'Upgrade Redis, or pass another `store` to IdempotencyModule.forRoot().',
      );
    }
  }

  /** The channel a completion or release publishes on: none unless it announces. */
  private channel(announce: boolean): string {
    return announce ? this.announcements.channel : '';
  }

  /** One script call on the record's key; connectivity errors become `IdempotencyStoreConnectionError`. */
  private async run(script: RedisScript, id: IdempotencyRecordId, args: (string | Buffer)[]): Promise<unknown> {
    try {
      return await runScript(this.redis, script, recordKey(this.prefix, id), args);
    } catch (error) {
      throw classifyRedisError(error);
    }
  }
}

/** A duration as the integer milliseconds `PEXPIRE` takes (0 or less deletes the key). */
function milliseconds(ms: number): string {
  return String(Math.ceil(ms));
}
