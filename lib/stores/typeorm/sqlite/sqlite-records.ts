import type { DataSource } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  RecordWatch,
  StoredResponse,
} from '../../../interfaces/idempotency-store.interface.js';
import { RecordWatchers } from '../../record-watchers.js';
import {
  claimResult,
  type ClaimedRow,
  foundRecord,
  type FoundRow,
  idValues,
  missingTableError,
  type SqlRecords,
  type SqlRecordsContext,
} from '../sql-records.js';
import { classifySqliteError } from './sqlite-errors.js';
import { buildSqliteStatements, type SqliteStatements } from './sqlite-statements.js';

/** The row a claim returns: the record after the statement, with its token. */
type ClaimReturningRow = ClaimedRow & { token: string };

/**
 * The SQLite dialect (`better-sqlite3`, `sqljs`): every operation is one
 * statement through `DataSource.query()`, so a first execution costs two
 * (claim, complete) and a replay one. Time is SQLite's clock (`'now'` in the
 * statement, to the millisecond), never a `Date` of the store's (sql.js's
 * WebAssembly SQLite reads its clock from JavaScript, in-process anyway).
 *
 * TypeORM's SQLite drivers have one connection, which these statements
 * share with the application (through it sql.js also saves the database
 * when `autoSave` is on). SQLite runs one writer at a time, so each
 * statement is atomic on its own; several processes on one file (WAL mode
 * recommended) wait for each other inside SQLite, for up to the driver's
 * busy timeout (better-sqlite3's `timeout` option, 5 s by default). The
 * store does not retry `SQLITE_BUSY` after that: a retry would block the
 * event loop again for as long, and a lock held that long is a problem to
 * see, not to hide.
 *
 * One connection also means one transaction: while the application holds a
 * transaction open across an `await`, the store's statements of concurrent
 * requests run inside it (as every other query of the application does), and
 * its rollback undoes their claims and completions. On SQLite, keep
 * transactions free of awaits on other work.
 */
export class SqliteRecords implements SqlRecords {
  private readonly dataSource: DataSource;
  private readonly statements: SqliteStatements;
  private readonly watchers = new RecordWatchers();

  constructor({ dataSource, table }: SqlRecordsContext) {
    this.dataSource = dataSource;
    this.statements = buildSqliteStatements(table);
  }

  async claim({ scope, principal, key, fingerprint, token, lockTimeout }: ClaimRequest): Promise<ClaimResult> {
    const [row] = await this.run<ClaimReturningRow>(this.statements.claim, [
      scope,
      principal,
      key,
      fingerprint,
      token,
      lockTimeout,
      lockTimeout,
    ]);
    return claimResult(row.token === token, row);
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce = false): Promise<boolean> {
    const { status, headers, body } = response;
    const values = [status, JSON.stringify(headers), body, ttl, ...idValues(id), token];
    return this.announcing(id, announce, (await this.run(this.statements.complete, values)).length === 1);
  }

  async release(id: IdempotencyRecordId, token: string, announce = false): Promise<boolean> {
    return this.announcing(id, announce, (await this.run(this.statements.release, [...idValues(id), token])).length === 1);
  }

  /** Wait mode, in this process: other processes on the same file are not woken (their waiters answer 409). */
  async watch(id: IdempotencyRecordId): Promise<RecordWatch> {
    return this.watchers.open(JSON.stringify(idValues(id)));
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    const values = [lockTimeout, lockTimeout, ...idValues(id), token];
    return (await this.run(this.statements.extendLease, values)).length === 1;
  }

  async purgeExpired(limit: number): Promise<number> {
    return (await this.run(this.statements.purgeExpired, [limit])).length;
  }

  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    return foundRecord((await this.run<FoundRow>(this.statements.find, idValues(id)))[0]);
  }

  async verify(): Promise<void> {
    const { database, name, table } = this.statements;
    const rows = await this.run(`SELECT 1 FROM ${database}.sqlite_master WHERE type = 'table' AND name = ?`, [name]);
    if (rows.length === 0) throw missingTableError(table, 'SqliteIdempotencyRecord');
  }

  /** Nothing to close: the statements run on the DataSource's connection. */
  async close(): Promise<void> {}

  /** Wakes the waiters of `id` when asked to and the write hit the record; `written` passes through. */
  private announcing(id: IdempotencyRecordId, announce: boolean, written: boolean): boolean {
    if (announce && written) this.watchers.announce(JSON.stringify(idValues(id)));
    return written;
  }

  /** One statement on the DataSource's connection; its rows (every statement here returns rows). */
  private async run<Row = unknown>(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return await this.dataSource.query<Row[]>(sql, values);
    } catch (error) {
      throw classifySqliteError(error, this.dataSource.isInitialized);
    }
  }
}
