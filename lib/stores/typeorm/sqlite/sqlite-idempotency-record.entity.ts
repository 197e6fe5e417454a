import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IDEMPOTENCY_RECORDS_TABLE } from '../sql-records.js';
import { SQLITE_NOW } from './sqlite-time.js';

/**
 * One idempotency record, on SQLite (`better-sqlite3`, `sqljs`): the table
 * and properties of `IdempotencyRecord`, in types TypeORM's SQLite drivers
 * map. The primary key (scope, principal, key) is the lock. Keys compare
 * with SQLite's default BINARY collation: `"a"` and `"a "` are two records.
 * Timestamps are UTC text `YYYY-MM-DD HH:MM:SS.SSS`, the form TypeORM writes
 * and reads back as `Date`s, so the store's statements compare them as text.
 *
 * Register it with your DataSource (`entities: [SqliteIdempotencyRecord]`,
 * plus `IdempotencyModule.forRoot({ entity: SqliteIdempotencyRecord })` with
 * `autoLoadEntities`), or create the table with the
 * {@link CreateIdempotencyRecords} migration.
 */
@Entity({ name: IDEMPOTENCY_RECORDS_TABLE })
@Index('IDX_idempotency_records_expires_at', ['expiresAt'])
export class SqliteIdempotencyRecord {
  /** Namespace of the key. */
  @PrimaryColumn({ type: 'text' })
  scope!: string;

  /** Owner of the key, `''` for anonymous callers. */
  @PrimaryColumn({ type: 'text' })
  principal!: string;

  /** The client's idempotency key. */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  key!: string;

  /** SHA-256 of the request, `''` when not checked. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** `processing` while leased, then `completed`. */
  @Column({ type: 'varchar', length: 16 })
  status!: 'processing' | 'completed';

  /** Token of the current lease holder (a UUID); fences complete and release. */
  @Column({ type: 'varchar', length: 36 })
  token!: string;

  /** End of the lease of a `processing` record. */
  @Column({ name: 'locked_until', type: 'datetime', nullable: true })
  lockedUntil!: Date | null;

  /** Stored HTTP status. */
  @Column({ name: 'response_status', type: 'smallint', nullable: true })
  responseStatus!: number | null;

  /** Stored replayable headers, as JSON text. */
  @Column({ name: 'response_headers', type: 'json', nullable: true })
  responseHeaders!: Record<string, string> | null;

  /** The stored body bytes; `NULL` when not stored. A `Buffer` on better-sqlite3, a `Uint8Array` on sql.js. */
  @Column({ name: 'response_body', type: 'blob', nullable: true })
  responseBody!: Uint8Array | null;

  @Column({ name: 'created_at', type: 'datetime', default: () => SQLITE_NOW })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'datetime', nullable: true })
  completedAt!: Date | null;

  /** After it a record is ignored and purged: the lease end while processing, `completed_at + ttl` after. */
  @Column({ name: 'expires_at', type: 'datetime' })
  expiresAt!: Date;
}
