import { createHash } from 'node:crypto';
import type { IdempotencyRecordId, RecordWatch } from '../../../interfaces/idempotency-store.interface.js';
import { RecordWatchers } from '../../record-watchers.js';
import type { PgPool } from './lease-lane.js';
import { classify } from './postgres-errors.js';

/** The part of pg's `Client` the listener uses. */
interface PgListener {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: { payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: () => void): unknown;
}

/**
 * Wait mode on PostgreSQL: one connection per process (per store) that
 * `LISTEN`s on the table's channel, opened on the first wait. Completions and
 * releases that announce call `pg_notify(channel, name of the record)` in
 * their own statement, so a waiter hears of an outcome once it is committed.
 * When the listening connection breaks, every waiter is woken (it claims
 * again and finds out), and the next wait listens anew.
 */
export class PostgresNotifications {
  /** `NOTIFY` channel of the table: `nestjs_idempotency_` and 12 hex digits of its name. */
  readonly channel: string;
  private readonly watchers = new RecordWatchers();
  private listener?: Promise<PgListener>;

  constructor(
    private readonly pool: PgPool,
    table: string,
  ) {
    this.channel = `nestjs_idempotency_${createHash('sha256').update(table).digest('hex').slice(0, 12)}`;
  }

  /** The `NOTIFY` payload that names a record: 32 hex digits of the SHA-256 of its identity. */
  static recordName({ scope, principal, key }: IdempotencyRecordId): string {
    return createHash('sha256').update(JSON.stringify([scope, principal, key])).digest('hex').slice(0, 32);
  }

  /** Watches `id`; resolves once this process listens. */
  async watch(id: IdempotencyRecordId): Promise<RecordWatch> {
    await (this.listener ??= this.listen());
    return this.watchers.open(PostgresNotifications.recordName(id));
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.then((client) => client.end()).catch(() => undefined);
  }

  private async listen(): Promise<PgListener> {
    const client = new this.pool.Client({ ...this.pool.options, application_name: 'nestjs-idempotency listener' }) as PgListener;
    client.on('notification', ({ payload }) => payload && this.watchers.announce(payload));
    const lost = () => {
      this.listener = undefined;
      this.watchers.announceAll();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
      return client;
    } catch (error) {
      this.listener = undefined;
      void client.end().catch(() => undefined);
      throw classify(error);
    }
  }
}
