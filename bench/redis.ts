import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix } from '../tools/redis-keys.js';

/** The Redis server of the `redis-*` scenarios: `REDIS_URL`, else 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** {@link REDIS_URL} without its password, for messages and the report. */
export const REDIS_LABEL = REDIS_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/**
 * The orchestrator's view of the Redis the `redis-*` apps use. Each run has
 * a random key prefix of its own, and each app a prefix under it, so runs
 * (and other users of the server) never share a key; the run's keys are
 * deleted when it closes.
 */
export interface BenchRedis {
  /** The server, for the apps. */
  readonly url: string;
  /** `INFO server`'s `redis_version`. */
  readonly serverVersion: string;
  /** The key prefix of the app of `scenario` in this run. */
  prefixFor(scenario: string): string;
  /** Deletes the keys under `prefix` (SCAN + DEL), so that a window starts from no records, as from empty tables. */
  clear(prefix: string): Promise<void>;
  /** Deletes every key of this run, then disconnects. */
  close(): Promise<void>;
}

/**
 * Checks that {@link REDIS_URL} answers, then connects for the run.
 * @throws Error saying why when it does not answer (unreachable, refused, ...).
 */
export async function openBenchRedis(): Promise<BenchRedis> {
  const serverVersion = await probe();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const runPrefix = `nestjs-idempotency-bench:${randomBytes(8).toString('hex')}:`;
  return {
    url: REDIS_URL,
    serverVersion,
    prefixFor: (scenario) => `${runPrefix}${scenario}:`,
    async clear(prefix) {
      await deleteKeysWithPrefix(redis, prefix);
    },
    async close() {
      try {
        await deleteKeysWithPrefix(redis, runPrefix);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** Connects once, without retries, and resolves the server's `redis_version`; rejects saying why it cannot. */
async function probe(): Promise<string> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 10, // else disconnect() after a failed connect holds the process for 2 s
  });
  // A failed connect rejects below with "Connection is closed."; the cause (ECONNREFUSED...) comes as an event.
  let socketError: Error | undefined;
  redis.on('error', (error: Error) => (socketError ??= error));
  try {
    await redis.connect();
    return /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } catch (error) {
    const why = socketError ?? error;
    throw new Error(`no usable Redis at ${REDIS_LABEL} (${why instanceof Error ? why.message : String(why)})`, { cause: error });
  } finally {
    redis.disconnect();
  }
}
