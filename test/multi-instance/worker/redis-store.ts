import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisIdempotencyStore } from '../../../lib/stores/redis/index.js';

/** The Redis store of an instance (`STORE=redis`): where Redis is, and the prefix of its keys. */
export interface RedisStoreOptions {
  url: string;
  /** Unset: the store's default prefix. */
  prefix?: string;
}

const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Closes the instance's Redis client when the app shuts down (`app.close()`, or a signal with shutdown hooks). */
@Injectable()
class RedisClientShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // QUIT lets queued commands finish; a client that is not connected just stops reconnecting.
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * A `RedisIdempotencyStore` on an ioredis client of the instance's own, as an
 * app wires it: the app creates the client (ioredis's defaults: it connects
 * at once and reconnects by itself) and closes it on shutdown, which the
 * returned providers do.
 */
export function redisStore({ url, prefix }: RedisStoreOptions): { store: RedisIdempotencyStore; providers: Provider[] } {
  const redis = new Redis(url, { connectionName: `nestjs-idempotency-${process.env.WORKER_NAME ?? 'worker'}` });
  return {
    store: new RedisIdempotencyStore(redis, { prefix }),
    providers: [{ provide: REDIS_CLIENT, useValue: redis }, RedisClientShutdown],
  };
}
