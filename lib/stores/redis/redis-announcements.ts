import type { Cluster, Redis } from 'ioredis';
import type { RecordWatch } from '../../interfaces/idempotency-store.interface.js';
import { RecordWatchers } from '../record-watchers.js';
import { classifyRedisError } from './redis-errors.js';

/**
 * Wait mode on Redis: completions and releases that announce `PUBLISH` the
 * record's key on `<prefix>settled` from inside their script, so a waiter
 * hears of an outcome once it is written. One subscriber connection per
 * store (a duplicate of the application's client: a subscribed connection
 * can run nothing else), opened on the first wait and closed by `close()`.
 * ioredis resubscribes after a reconnect; announcements made while the
 * connection was down are lost, so on every reconnect all waiters are woken
 * to claim again.
 */
export class RedisAnnouncements {
  private readonly watchers = new RecordWatchers();
  private subscriber?: Promise<Redis | Cluster>;

  constructor(
    private readonly redis: Redis | Cluster,
    /** The pub/sub channel, `<prefix>settled`. */
    readonly channel: string,
  ) {}

  /** Watches the record at `recordKey`; resolves once subscribed. */
  async watch(recordKey: string): Promise<RecordWatch> {
    await (this.subscriber ??= this.subscribe());
    return this.watchers.open(recordKey);
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    await subscriber?.then((client) => client.quit()).catch(() => undefined);
  }

  private async subscribe(): Promise<Redis | Cluster> {
    const subscriber = this.redis.duplicate();
    subscriber.on('error', () => undefined); // reconnects by itself; waiters are woken on 'ready'
    subscriber.on('message', (channel: string, recordKey: string) => {
      if (channel === this.channel) this.watchers.announce(recordKey);
    });
    let subscribed = false;
    subscriber.on('ready', () => {
      if (subscribed) this.watchers.announceAll();
    });
    try {
      await subscriber.subscribe(this.channel);
      subscribed = true;
      return subscriber;
    } catch (error) {
      this.subscriber = undefined;
      subscriber.disconnect();
      throw classifyRedisError(error);
    }
  }
}
