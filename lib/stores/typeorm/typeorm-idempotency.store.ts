import type { OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  IdempotencyStore,
  IdempotencyTransaction,
  RecordWatch,
  StoreUses,
  StoredResponse,
} from '../../interfaces/idempotency-store.interface.js';
import { openSqlRecords } from './open-sql-records.js';
import type { SqlRecords } from './sql-records.js';
import type { TypeOrmIdempotencyStoreOptions } from './typeorm-idempotency-store.options.js';

export type { TypeOrmIdempotencyStoreOptions } from './typeorm-idempotency-store.options.js';

/**
 * {@link IdempotencyStore} on a TypeORM DataSource: PostgreSQL, MySQL 8 /
 * MariaDB 10.6+ (`mysql2`), or SQLite (`better-sqlite3`, `sqljs`), picked
 * from the DataSource's `type`. The primary key (scope, principal, key) is
 * the lock: a claim inserts the record or takes over an expired one in one
 * atomic statement, never check-then-insert. Time is the database's clock,
 * so instances with skewed clocks agree on leases and expiry.
 *
 * Round trips: PostgreSQL and MariaDB answer a first execution in two
 * (claim, complete) and a replay in one, SQLite in as many statements in the
 * process; MySQL, without `INSERT ... RETURNING`, needs one more per claim. On PostgreSQL and MySQL/MariaDB, lease
 * renewals, completions and releases go to a small pool of the store's own,
 * so a busy application pool cannot make a live request lose its lease.
 * Deadlocks and serialization failures are retried; connection failures are
 * thrown as `IdempotencyStoreConnectionError`.
 */
export class TypeOrmIdempotencyStore implements IdempotencyStore, OnApplicationShutdown {
  private records?: SqlRecords;

  /**
   * @param dataSource the DataSource, or a function that returns it (called
   *   on first use, for a DataSource that is not initialized yet).
   */
  constructor(
    private readonly dataSource: DataSource | (() => DataSource),
    private readonly options: TypeOrmIdempotencyStoreOptions = {},
  ) {}

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.open().claim(request);
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce?: boolean): Promise<boolean> {
    return this.open().complete(id, token, response, ttl, announce);
  }

  async release(id: IdempotencyRecordId, token: string, announce?: boolean): Promise<boolean> {
    return this.open().release(id, token, announce);
  }

  /**
   * Atomic mode: a transaction on the DataSource (or the one of `join`, an
   * `EntityManager` in a transaction) for the claim, the operation's writes
   * and the completion: PostgreSQL and MySQL/MariaDB.
   * @throws IdempotencyConfigurationError on SQLite (one connection shared by every request).
   */
  async begin(join?: unknown): Promise<IdempotencyTransaction> {
    const records = this.open();
    if (!records.begin) throw this.unable('Atomic mode (atomic: true, or execute() with a manager)', 'PostgreSQL or MySQL/MariaDB');
    return records.begin(join);
  }

  /**
   * Wait mode: PostgreSQL wakes waiters with `LISTEN/NOTIFY` (one listening
   * connection per process), SQLite with in-process events.
   * @throws IdempotencyConfigurationError on MySQL/MariaDB, which has no way to wake them.
   */
  async watch(id: IdempotencyRecordId): Promise<RecordWatch> {
    const records = this.open();
    if (!records.watch) throw this.unable('The `wait` option', 'PostgreSQL, SQLite, Redis or in-memory');
    return records.watch(id);
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    return this.open().extendLease(id, token, lockTimeout);
  }

  async purgeExpired(limit: number): Promise<number> {
    return this.open().purgeExpired(limit);
  }

  /** Operator API: one SELECT (on the DataSource's pool), expiry judged by the database's clock. */
  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    return this.open().find(id);
  }

  /**
   * Checks at startup that the DataSource's type is supported, the table
   * exists, and the database can do what `uses` asks: transactions (atomic
   * mode) and waking waiters (wait mode). Skipped while the DataSource is
   * not initialized yet.
   * @throws IdempotencyConfigurationError naming the fix.
   */
  async verify(uses?: StoreUses): Promise<void> {
    if (!this.getDataSource().isInitialized) return; // initialized later by the app (manualInitialization): checked on first use
    const records = this.open();
    await records.verify();
    if (uses?.transactions && !records.begin) throw this.unable('Atomic mode (atomic: true, or execute() with a manager)', 'PostgreSQL or MySQL/MariaDB');
    if (uses?.waiting && !records.watch) throw this.unable('The `wait` option', 'PostgreSQL, SQLite, Redis or in-memory');
  }

  /** Closes the store's own pool (the DataSource's pool is the application's to close). */
  async onApplicationShutdown(): Promise<void> {
    const records = this.records;
    this.records = undefined;
    await records?.close();
  }

  /** The error of a feature this DataSource's database cannot serve. */
  private unable(feature: string, databases: string): IdempotencyConfigurationError {
    return new IdempotencyConfigurationError(
      `${feature} needs ${databases}; the idempotency store's DataSource is ${this.getDataSource().options.type}. ` +
        'Leave the option off, or keep records in a store that has it (the `store` or `dataSource` option).',
    );
  }

  private getDataSource(): DataSource {
    return typeof this.dataSource === 'function' ? this.dataSource() : this.dataSource;
  }

  private open(): SqlRecords {
    if (this.records) return this.records;
    const dataSource = this.getDataSource();
    if (!dataSource.isInitialized) throw new IdempotencyConfigurationError('TypeOrmIdempotencyStore needs an initialized DataSource.');
    return (this.records = openSqlRecords(dataSource, this.options));
  }
}
