import type { DataSource } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  IdempotencyTransaction,
  StoredResponse,
} from '../../../interfaces/idempotency-store.interface.js';
import {
  claimResult,
  type ClaimedRow,
  foundRecord,
  type FoundRow,
  missingTableError,
  retrying,
  type SqlRecords,
  type SqlRecordsContext,
} from '../sql-records.js';
import { classify, isRetryable } from './mysql-errors.js';
import { assertFingerprintFits, identityBytes } from './mysql-identity.js';
import { MysqlLeaseLane } from './mysql-lease-lane.js';
import { type MysqlPool, type MysqlResult, mysqlDriverOf, runStatement, writePoolOf } from './mysql-pool.js';
import { insertReturningDisabled, type MysqlServer, mysqlServerOf } from './mysql-server.js';
import { buildMysqlStatements, claimValues, microseconds, type MysqlStatements } from './mysql-statements.js';
import { MysqlTransaction } from './mysql-transaction.js';

/** The record a claim reads back, with the token of its owner. */
type ClaimedRecord = ClaimedRow & { token: string };

/**
 * The MySQL 8 / MariaDB 10.6+ dialect. A claim is one atomic
 * `INSERT ... ON DUPLICATE KEY UPDATE` that takes over only an expired row;
 * the caller owns the record when the record's token is its own. MariaDB
 * (10.5+) returns the record with `RETURNING`: a first execution costs two
 * round trips (claim, complete) and a replay one. MySQL has no
 * `INSERT ... RETURNING`, so its claim reads the record with a second
 * statement: three and two. The server is asked once per store.
 *
 * Claims and purges go to the DataSource's mysql2 pool (its master with
 * replication); lease renewals, completions and releases to the
 * {@link MysqlLeaseLane}. Statements bypass TypeORM's query runner. Time is
 * `UTC_TIMESTAMP(3)` only, so the session's `time_zone` never matters.
 * Atomic mode runs in a {@link MysqlTransaction}.
 */
export class MysqlRecords implements SqlRecords {
  private readonly statements: MysqlStatements;
  private readonly pool: MysqlPool;
  private readonly lane: MysqlLeaseLane;
  private readonly table: string;
  private readonly forceTwoStatements: boolean;
  private readonly dataSource: DataSource;
  private server?: Promise<MysqlServer>;

  constructor({ dataSource, table, options }: SqlRecordsContext) {
    const driver = mysqlDriverOf(dataSource);
    this.dataSource = dataSource;
    this.table = table;
    this.pool = writePoolOf(driver);
    this.statements = buildMysqlStatements(table);
    this.lane = new MysqlLeaseLane(driver, options.leaseConnections ?? 4);
    this.forceTwoStatements = insertReturningDisabled(options);
  }

  async claim({ fingerprint, token, lockTimeout, ...id }: ClaimRequest): Promise<ClaimResult> {
    const identity = identityBytes(id);
    assertFingerprintFits(fingerprint);
    const values = claimValues(identity, fingerprint, token, lockTimeout);
    let rows: MysqlResult;
    if (await this.claimsWithReturning()) {
      rows = await this.run(this.pool, this.statements.claimReturning, values);
    } else {
      await this.run(this.pool, this.statements.claim, values);
      rows = await this.run(this.pool, this.statements.readRecord, identity);
    }
    const record = (rows as unknown as ClaimedRecord[])[0] as ClaimedRecord | undefined;
    return claimResult(record?.token === token, record);
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number): Promise<boolean> {
    const values = [response.status, JSON.stringify(response.headers), response.body, microseconds(ttl), ...identityBytes(id), token];
    return (await this.onLane(this.statements.complete, values)) === 1;
  }

  async release(id: IdempotencyRecordId, token: string): Promise<boolean> {
    return (await this.onLane(this.statements.release, [...identityBytes(id), token])) === 1;
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    const lease = microseconds(lockTimeout);
    return (await this.onLane(this.statements.extendLease, [lease, lease, ...identityBytes(id), token])) === 1;
  }

  /**
   * Atomic mode: see {@link MysqlTransaction}. A server not known yet is
   * asked on the transaction's own connection, never a second one of the pool.
   */
  begin(join?: unknown): Promise<IdempotencyTransaction> {
    const claims = { statements: this.statements, returning: (connection: MysqlPool) => this.claimsWithReturning(connection) };
    return MysqlTransaction.open(this.dataSource, claims, join);
  }

  async purgeExpired(limit: number): Promise<number> {
    return (await this.run(this.pool, this.statements.purgeExpired, [limit])).affectedRows ?? 0;
  }

  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    const rows = await this.run(this.pool, this.statements.find, identityBytes(id));
    return foundRecord((rows as unknown as FoundRow[])[0]);
  }

  /**
   * Checks that the table exists and learns the server (one round trip).
   * @throws IdempotencyConfigurationError for a missing table.
   */
  async verify(): Promise<void> {
    const [schema, table] = this.tableParts();
    const [row] = await this.run(
      this.pool,
      'SELECT VERSION() AS version, EXISTS (SELECT 1 FROM information_schema.tables ' +
        'WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?) AS present',
      [schema, table],
    );
    const server = mysqlServerOf(String(row.version));
    this.server = Promise.resolve(server);
    if (Number(row.present) !== 1) throw missingTableError(this.statements.table, 'MysqlIdempotencyRecord');
  }

  async close(): Promise<void> {
    await this.lane.close();
  }

  /** Whether claims return the record in the same statement; asks the server once (on `via`). */
  private async claimsWithReturning(via: MysqlPool = this.pool): Promise<boolean> {
    if (this.forceTwoStatements) return false;
    this.server ??= this.run(via, 'SELECT VERSION() AS version', []).then(([row]) => mysqlServerOf(String(row.version)));
    try {
      return (await this.server).insertReturning;
    } catch (error) {
      this.server = undefined; // ask again next time
      throw error;
    }
  }

  /** The table's schema (`null`: the connection's database) and name, unquoted. */
  private tableParts(): [string | null, string] {
    const dot = this.table.indexOf('.');
    return dot === -1 ? [null, this.table] : [this.table.slice(0, dot), this.table.slice(dot + 1)];
  }

  private async onLane(sql: string, values: unknown[]): Promise<number> {
    return (await this.run(await this.lane.pool, sql, values)).affectedRows ?? 0;
  }

  /** One statement on a pooled connection (one round trip), run again after a deadlock or lock wait timeout. */
  private run(pool: MysqlPool, sql: string, values: unknown[]): Promise<MysqlResult> {
    return retrying(() => runStatement(pool, sql, values), isRetryable, classify);
  }
}
