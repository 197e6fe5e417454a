import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecordId,
  IdempotencyTransaction,
  StoredResponse,
} from '../../../interfaces/idempotency-store.interface.js';
import { claimResult, HELD_BY_ANOTHER_TRANSACTION, idValues, type ClaimedRow } from '../sql-records.js';
import { TransactionRunner } from '../transaction-runner.js';
import { inlineParameters, literal } from './postgres-literals.js';
import { classify } from './postgres-errors.js';
import { tookOverLapsedLease, type Statement, type Statements } from './postgres-statements.js';

/** The part of pg's `Client` a transaction uses: simple queries, several statements in one round trip. */
interface PgConnection {
  query(text: string): Promise<PgResult | PgResult[]>;
  escapeLiteral(value: string): string;
}
type PgResult = { rows: never[]; rowCount: number | null };

/** The `pg_notify` channel and payload of a completion that wakes the waiters of `id`. */
export type Announcement = (id: IdempotencyRecordId) => [string, string];

/** SQLSTATE of `lock_timeout` running out: a concurrent transaction holds the key. */
const LOCK_NOT_AVAILABLE = '55P03';
/** SQLSTATE of a `PREPARE` whose name the connection has prepared already. */
const DUPLICATE_PREPARED_STATEMENT = '42P05';
const SAVEPOINT = 'nestjs_idempotency';

/**
 * Atomic mode on PostgreSQL: a transaction on a connection of the
 * DataSource's pool (or the caller's, joined in a savepoint) through a
 * TypeORM query runner, so the operation's `EntityManager` writes in it.
 * Two round trips of its own: BEGIN and the claim in one simple query,
 * the completion and COMMIT in another. A simple query takes no parameters,
 * so the claim and the completion are `EXECUTE`s of statements `PREPARE`d
 * once per connection, with their values as literals (or, with
 * `preparedStatements: false`, their text with the values inlined).
 *
 * The claim first takes the key's advisory lock (transaction-level), which a
 * concurrent atomic claim of the key holds until it commits or rolls back:
 * with `wait` 0 it only tries (no wait at all, whatever else the database
 * waits for), else it waits for at most `wait` ms (`lock_timeout`, set
 * around the claim only, so the operation's statements keep the session's).
 *
 * The query runner's transaction state is kept true (see {@link TransactionRunner}).
 */
export class PostgresTransaction implements IdempotencyTransaction {
  private opened = false;
  private ended = false;

  private constructor(
    private readonly runner: TransactionRunner,
    private readonly connection: PgConnection,
    private readonly statements: Statements,
    private readonly announcementOf: Announcement,
    /** Run the claim and completion as prepared statements (`EXECUTE`), else as inlined text. */
    private readonly prepared: boolean,
  ) {}

  /** Joined the caller's transaction: a savepoint, released or rolled back to; the caller commits. */
  private get joined(): boolean {
    return this.runner.joined;
  }

  /** Opens a transaction on the pool of `dataSource`, or joins that of `join`. */
  static async open(
    dataSource: DataSource,
    statements: Statements,
    announcementOf: Announcement,
    prepared: boolean,
    join?: unknown,
  ): Promise<PostgresTransaction> {
    const runner = TransactionRunner.of(dataSource, join, ['postgres']);
    try {
      const connection = (await runner.connect()) as PgConnection;
      if (prepared) await prepareOn(connection, [statements.claimAtomic, statements.claimAtomicWaiting, statements.complete, statements.completeAnnounced]);
      return new PostgresTransaction(runner, connection, statements, announcementOf, prepared);
    } catch (error) {
      await runner.release();
      throw classify(error);
    }
  }

  get manager(): EntityManager {
    return this.runner.manager;
  }

  async claim({ scope, principal, key, fingerprint, token, lockTimeout }: ClaimRequest, wait: number): Promise<ClaimResult> {
    const values = [scope, principal, key, fingerprint, token, lockTimeout, ...advisoryLockOf(this.statements.table, scope, principal, key)];
    const waits = wait > 0;
    const claim = this.call(waits ? this.statements.claimAtomicWaiting : this.statements.claimAtomic, values);
    const results = await this.run([
      ...(this.opened ? [] : [this.joined ? `SAVEPOINT ${SAVEPOINT}` : 'BEGIN ISOLATION LEVEL READ COMMITTED']),
      ...(waits
        ? [
            `SELECT set_config('nestjs_idempotency.lock_timeout', current_setting('lock_timeout'), true), set_config('lock_timeout', '${Math.ceil(wait)}ms', true)`,
            claim,
            `SELECT set_config('lock_timeout', current_setting('nestjs_idempotency.lock_timeout'), true)`,
          ]
        : [claim]),
    ]).catch((error: unknown) => {
      this.opened = true; // BEGIN ran before the claim failed
      if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) return null;
      throw classify(error);
    });
    if (!this.opened) await this.began();
    if (!results) return HELD_BY_ANOTHER_TRANSACTION;
    const row = results[results.length - (waits ? 2 : 1)].rows[0] as ClaimedRow & { claimed: boolean; open: boolean };
    return row.open ? claimResult(row.claimed, row, tookOverLapsedLease(row)) : HELD_BY_ANOTHER_TRANSACTION;
  }

  async commit(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce: boolean): Promise<void> {
    const values = [...idValues(id), token, response.status, JSON.stringify(response.headers), response.body, ttl];
    const complete = announce
      ? this.call(this.statements.completeAnnounced, [...values, ...this.announcementOf(id)])
      : this.call(this.statements.complete, values);
    if (this.ended) throw new Error('the idempotency transaction has already ended');
    await this.runner.broadcast('BeforeTransactionCommit');
    try {
      await this.run([complete, this.joined ? `RELEASE SAVEPOINT ${SAVEPOINT}` : 'COMMIT']);
    } catch (error) {
      await this.rollback();
      throw classify(error);
    }
    await this.end('AfterTransactionCommit');
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    if (this.opened) {
      await this.runner.broadcast('BeforeTransactionRollback');
      await this.run([this.joined ? `ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}` : 'ROLLBACK']).catch(() => undefined);
    }
    await this.end(this.opened ? 'AfterTransactionRollback' : undefined);
  }

  private async began(): Promise<void> {
    this.opened = true;
    await this.runner.began();
  }

  /** Ends the transaction: the query runner out of it and, unless joined, back to the pool. */
  private async end(event?: string): Promise<void> {
    this.ended = true;
    await this.runner.ended(event);
  }

  private async run(statements: string[]): Promise<PgResult[]> {
    const results = await this.connection.query(statements.join(';\n'));
    return Array.isArray(results) ? results : [results];
  }

  /**
   * `statement` with `values`, for a simple query: `EXECUTE` of the statement
   * prepared on this connection (parsed and planned once per connection),
   * or its text with the values inlined when prepared statements are off.
   */
  private call(statement: Statement, values: unknown[]): string {
    const escape = (value: string) => this.connection.escapeLiteral(value);
    if (!this.prepared) return inlineParameters(statement.text, values, escape);
    return `EXECUTE ${preparedName(statement)}(${values.map((value) => literal(value, escape)).join(', ')})`;
  }

}


/**
 * The key of the advisory lock of a record of `table`: two int4 halves of a
 * SHA-256 of its identity (a collision makes two keys wait for each other,
 * never share a record).
 */
function advisoryLockOf(table: string, scope: string, principal: string, key: string): [number, number] {
  const digest = createHash('sha256').update(JSON.stringify([table, scope, principal, key])).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/** The statements `PREPARE`d on each connection, by name (a connection keeps them for its life, through rollbacks). */
const preparedOn = new WeakMap<object, Set<string>>();

/** The SQL name of the prepared form of `statement` (its protocol-level name, as an identifier). */
function preparedName(statement: Statement): string {
  return statement.name.replace(/[^A-Za-z0-9]/g, '_');
}

/**
 * `PREPARE`s those of `statements` that `connection` has not prepared yet:
 * one round trip each, once per connection of the pool.
 */
async function prepareOn(connection: PgConnection, statements: Statement[]): Promise<void> {
  let names = preparedOn.get(connection);
  if (!names) preparedOn.set(connection, (names = new Set()));
  for (const statement of statements) {
    const name = preparedName(statement);
    if (names.has(name)) continue;
    await connection.query(`PREPARE ${name} AS ${statement.text}`).catch((error: { code?: string }) => {
      if (error.code !== DUPLICATE_PREPARED_STATEMENT) throw error;
    });
    names.add(name);
  }
}
