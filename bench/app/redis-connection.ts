import type { OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { countRedisCommands, type RedisCommandCounts } from './redis-command-counter.js';

/**
 * `library-redis`: the app's ioredis client, counted, and the store on it.
 * The app owns the client as an application would: registered as a provider,
 * it is closed on app shutdown (`app.close()`), after the HTTP server.
 */
export class RedisConnection implements OnApplicationShutdown {
  readonly client: Redis;
  /** Commands the client sent, counted at `sendCommand`. */
  readonly commands: RedisCommandCounts;
  /** The store `IdempotencyModule` gets. */
  readonly store: RedisIdempotencyStore;

  /**
   * @param url the Redis server, e.g. `redis://127.0.0.1:6379`
   * @param prefix the store's key prefix: the orchestrator gives each app of a run its own, and deletes its keys
   */
  constructor(url: string, prefix: string) {
    this.client = new Redis(url);
    this.commands = countRedisCommands(this.client);
    this.store = new RedisIdempotencyStore(this.client, { prefix });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit();
  }
}
