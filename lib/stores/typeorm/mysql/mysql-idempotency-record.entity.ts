import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { IDEMPOTENCY_RECORDS_TABLE } from '../sql-records.js';
import { MYSQL_IDENTITY_BYTES } from './mysql-identity.js';

/**
 * Text kept as its UTF-8 bytes in a VARBINARY column: compared byte for byte,
 * with no collation (no case folding, no PAD SPACE: `"a"` and `"a "` are two
 * records), read back as a string.
 */
const utf8Bytes: ValueTransformer = {
  to: (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value),
  from: (value: unknown) => (Buffer.isBuffer(value) ? value.toString('utf8') : value),
};

/**
 * JSON kept as LONGTEXT: what MariaDB makes of a JSON column anyway, so
 * TypeORM sees the same type on MySQL and MariaDB (with `type: 'mysql'` on a
 * MariaDB server, a `json` column would be dropped and re-added by every
 * `synchronize`). Read back as the object.
 */
const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === null || value === undefined ? value : JSON.stringify(value)),
  from: (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value),
};

/** Exact, case-sensitive text that never depends on the table's default character set. */
const EXACT_TEXT = { charset: 'utf8mb4', collation: 'utf8mb4_bin' } as const;

/** ASCII compared byte for byte (tokens, states). */
const ASCII = { charset: 'ascii', collation: 'ascii_bin' } as const;

/**
 * One idempotency record on MySQL 8 / MariaDB 10.6+: the same table and
 * properties as `IdempotencyRecord` (PostgreSQL), in types both servers
 * have. The primary key (scope, principal, key) is the lock; its three
 * VARBINARY columns (1024 bytes each, InnoDB's 3072-byte key limit in all)
 * hold UTF-8 bytes, so keys compare exactly.
 *
 * Times are DATETIME(3) holding UTC, written from the server's
 * `UTC_TIMESTAMP(3)` whatever the session's `time_zone`. To read them as
 * dates through this entity, give the DataSource `timezone: 'Z'`.
 *
 * Register it (`entities: [MysqlIdempotencyRecord]`, or
 * `IdempotencyModule.forRoot({ entity: MysqlIdempotencyRecord })` with
 * `autoLoadEntities`), or create the table with the
 * `CreateIdempotencyRecords` migration.
 */
@Entity({ name: IDEMPOTENCY_RECORDS_TABLE })
@Index('IDX_idempotency_records_expires_at', ['expiresAt'])
export class MysqlIdempotencyRecord {
  /** Namespace of the key (at most 1024 bytes of UTF-8). */
  @PrimaryColumn({ type: 'varbinary', length: MYSQL_IDENTITY_BYTES.scope, transformer: utf8Bytes })
  scope!: string;

  /** Owner of the key, `''` for anonymous callers (at most 1024 bytes of UTF-8). */
  @PrimaryColumn({ type: 'varbinary', length: MYSQL_IDENTITY_BYTES.principal, transformer: utf8Bytes })
  principal!: string;

  /** The client's idempotency key. */
  @PrimaryColumn({ type: 'varbinary', length: MYSQL_IDENTITY_BYTES.key, transformer: utf8Bytes })
  key!: string;

  /** SHA-256 of the request, `''` when not checked. */
  @Column({ type: 'varchar', length: 64, ...EXACT_TEXT })
  fingerprint!: string;

  /** `processing` while leased, then `completed`. */
  @Column({ type: 'varchar', length: 16, ...ASCII })
  status!: 'processing' | 'completed';

  /** Token of the current lease holder (a UUID); fences complete and release. */
  @Column({ type: 'char', length: 36, ...ASCII })
  token!: string;

  /** End of the lease of a `processing` record (UTC). */
  @Column({ name: 'locked_until', type: 'datetime', precision: 3, nullable: true })
  lockedUntil!: Date | null;

  /** Stored HTTP status. */
  @Column({ name: 'response_status', type: 'smallint', nullable: true })
  responseStatus!: number | null;

  /** Stored replayable headers, as JSON text. */
  @Column({ name: 'response_headers', type: 'longtext', nullable: true, transformer: jsonText })
  responseHeaders!: Record<string, string> | null;

  /** JSON encoding of the stored value; `NULL` when not stored. */
  @Column({ name: 'response_body', type: 'longblob', nullable: true })
  responseBody!: Buffer | null;

  /** When the record was claimed (UTC); written by every claim, so no default that follows the session's time zone. */
  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  /** When the outcome was stored (UTC). */
  @Column({ name: 'completed_at', type: 'datetime', precision: 3, nullable: true })
  completedAt!: Date | null;

  /** After it a record is ignored and purged (UTC): the lease end while processing, `completed_at + ttl` after. */
  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;
}
