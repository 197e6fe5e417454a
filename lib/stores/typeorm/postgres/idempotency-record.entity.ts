import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IDEMPOTENCY_RECORDS_TABLE } from '../sql-records.js';

/**
 * One idempotency record, on PostgreSQL (`MysqlIdempotencyRecord` and
 * `SqliteIdempotencyRecord` map the same table there). The primary key (scope, principal, key) is the
 * lock: a claim is one insert that only one request can win.
 *
 * Register it with your DataSource (`entities: [IdempotencyRecord]`, or
 * `TypeOrmModule.forFeature([IdempotencyRecord])` with `autoLoadEntities`),
 * or create the table with the {@link CreateIdempotencyRecords} migration.
 */
@Entity({ name: IDEMPOTENCY_RECORDS_TABLE })
@Index('IDX_idempotency_records_expires_at', ['expiresAt'])
export class IdempotencyRecord {
  /** Namespace of the key. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_idempotency_records' })
  scope!: string;

  /** Owner of the key, `''` for anonymous callers. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_idempotency_records' })
  principal!: string;

  /** The client's idempotency key. */
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'PK_idempotency_records' })
  key!: string;

  /** SHA-256 of the request, `''` when not checked. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** `processing` while leased, then `completed`. */
  @Column({ type: 'varchar', length: 16 })
  status!: 'processing' | 'completed';

  /** Token of the current lease holder; fences complete and release. */
  @Column({ type: 'uuid' })
  token!: string;

  /** End of the lease of a `processing` record. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /** Stored HTTP status. */
  @Column({ name: 'response_status', type: 'smallint', nullable: true })
  responseStatus!: number | null;

  /** Stored replayable headers. */
  @Column({ name: 'response_headers', type: 'jsonb', nullable: true })
  responseHeaders!: Record<string, string> | null;

  /** JSON encoding of the stored value; `NULL` when not stored. */
  @Column({ name: 'response_body', type: 'bytea', nullable: true })
  responseBody!: Buffer | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  /** After it a record is ignored and purged: the lease end while processing, `completed_at + ttl` after. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
