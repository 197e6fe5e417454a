import type { DataSource } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  IdempotencyTransaction,
  RecordWatch,
  StoredResponse,
} from '../../../interfaces/idempotency-store.interface.js';
import {
  claimResult,
  type ClaimedRow,
  foundRecord,
  idValues,
  missingTableError,
  retrying,
  type SqlRecords,
  type SqlRecordsContext,
} from '../sql-records.js';
import { LeaseLane, type PgPool } from './lease-lane.js';
import { classify, isRetryable } from './postgres-errors.js';
import { PostgresNotifications } from './postgres-notifications.js';
import { PostgresTransaction } from './postgres-transaction.js';
import { buildStatements, tookOverLapsedLease, type Statement, type Statements } from './postgres-statements.js';

/**
 * The PostgreSQL dialect: every operation is one statement, so a first
 * execution costs two round trips (claim, complete) and a replay one. Claims
 * go to the DataSource's pg pool; lease renewals, completions and releases
 * to the {@link LeaseLane}. Statements bypass TypeORM's query runner. Wait
 * mode listens with {@link PostgresNotifications}.
 */
export class PostgresRecords implements SqlRecords {
  private readonly statements: Statements;
  private readonly lane: LeaseLane;
  private readonly prepared: boolean;

  private readonly pool: PgPool;
  private readonly dataSource: DataSource;
  private readonly notifications: PostgresNotifications;

  constructor({ dataSource, table, options }: SqlRecordsContext) {
    // TypeORM's PostgreSQL driver keeps its pg Pool as `master`.
    this.dataSource = dataSource;
    this.pool = (dataSource.driver as unknown as { master: PgPool }).master;
    this.statements = buildStatements(table);
    this.lane = new LeaseLane(this.pool, options.leaseConnections ?? 4);
    this.prepared = options.preparedStatements ?? true;
    this.notifications = new PostgresNotifications(this.pool, this.statements.table);
  }

  async claim({ scope, principal, key, fingerprint, token, lockTimeout }: ClaimRequest): Promise<ClaimResult> {
    const values = [scope, principal, key, fingerprint, token, lockTimeout];
    const { rows } = await this.run(this.pool, this.statements.claim, values);
    const row: ClaimedRow & { claimed: boolean } = rows[0];
    return claimResult(row.claimed, row, tookOverLapsedLease(row));
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce = false): Promise<boolean> {
    const values = [...idValues(id), token, response.status, JSON.stringify(response.headers), response.body, ttl];
    if (!announce) return (await this.onLane(this.statements.complete, values)) === 1;
    return (await this.onLane(this.statements.completeAnnounced, [...values, ...this.announcement(id)])) === 1;
  }

  async release(id: IdempotencyRecordId, token: string, announce = false): Promise<boolean> {
    const values = [...idValues(id), token];
    if (!announce) return (await this.onLane(this.statements.release, values)) === 1;
    return (await this.onLane(this.statements.releaseAnnounced, [...values, ...this.announcement(id)])) === 1;
  }

  /** Atomic mode: see {@link PostgresTransaction}. */
  begin(join?: unknown): Promise<IdempotencyTransaction> {
    return PostgresTransaction.open(this.dataSource, this.statements, (id) => this.announcement(id), this.prepared, join);
  }

  watch(id: IdempotencyRecordId): Promise<RecordWatch> {
    return this.notifications.watch(id);
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    return (await this.onLane(this.statements.extendLease, [...idValues(id), token, lockTimeout])) === 1;
  }

  async purgeExpired(limit: number): Promise<number> {
    return (await this.run(this.pool, this.statements.purgeExpired, [limit])).rowCount ?? 0;
  }

  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    return foundRecord((await this.run(this.pool, this.statements.find, idValues(id))).rows[0]);
  }

  async verify(): Promise<void> {
    const { rows } = await this.pool.query({ text: 'SELECT to_regclass($1) IS NOT NULL AS present', values: [this.statements.table] });
    if (!(rows[0] as { present: boolean }).present) throw missingTableError(this.statements.table, 'IdempotencyRecord');
  }

  async close(): Promise<void> {
    await Promise.all([this.lane.close(), this.notifications.close()]);
  }

  /** The channel and payload of `pg_notify` that wake the waiters of `id`. */
  private announcement(id: IdempotencyRecordId): [string, string] {
    return [this.notifications.channel, PostgresNotifications.recordName(id)];
  }

  private async onLane(statement: Statement, values: unknown[]): Promise<number> {
    return (await this.run(this.lane.pool, statement, values)).rowCount ?? 0;
  }

  /** One statement on a pooled connection (one round trip), run again after a deadlock or serialization failure. */
  private run(pool: PgPool, { name, text }: Statement, values: unknown[]) {
    return retrying(() => pool.query(this.prepared ? { name, text, values } : { text, values }), isRetryable, classify);
  }
}
