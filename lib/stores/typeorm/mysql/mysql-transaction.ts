import type { DataSource, EntityManager } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecordId,
  IdempotencyTransaction,
  StoredResponse,
} from '../../../interfaces/idempotency-store.interface.js';
import { claimResult, HELD_BY_ANOTHER_TRANSACTION, type ClaimedRow } from '../sql-records.js';
import { classify } from './mysql-errors.js';
import { assertFingerprintFits, identityBytes } from './mysql-identity.js';
import { claimWithLockWait, errnoOf, lockWaitSeconds, MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT, MYSQL_NO_SUCH_SAVEPOINT } from './mysql-lock-wait.js';
import { type MysqlPool, type MysqlResult, runStatement } from './mysql-pool.js';
import { TransactionRunner } from '../transaction-runner.js';
import { claimValues, microseconds, type MysqlStatements } from './mysql-statements.js';

/** How the dialect claims on this server. */
export interface MysqlClaims {
  statements: MysqlStatements;
  /** Whether the server has `INSERT ... RETURNING` (MariaDB 10.5+), asked on `connection` when not known yet. */
  returning(connection: MysqlPool): Promise<boolean>;
}

/** The record a claim reads back, with the token of its owner. */
type ClaimedRecord = ClaimedRow & { token: string };

/** Claims of an own transaction that InnoDB rolled back as a deadlock's victim, run again in a new one. */
const CLAIM_ATTEMPTS = 5;

let savepoints = 0;

/**
 * Atomic mode on MySQL 8 / MariaDB: a transaction on a connection of the
 * DataSource's pool (its master with replication), or the caller's joined in
 * a savepoint, through a TypeORM query runner, so the operation's
 * `EntityManager` writes in it. One statement per round trip (no
 * `multipleStatements` needed). Round trips of its own, MariaDB 10.5+:
 * START TRANSACTION, the claim, the completion, COMMIT (four; a replay or a
 * key in flight: three, with ROLLBACK). MySQL: START TRANSACTION, set the
 * lock wait, the claim upsert, the record read, restore the lock wait, the
 * completion, COMMIT (seven; a replay: six). Joined: SAVEPOINT, RELEASE
 * SAVEPOINT (or ROLLBACK TO SAVEPOINT) instead; InnoDB keeps the row locks
 * taken after a savepoint rolled back to, so a joined replay holds the
 * record's lock until the caller's transaction ends. The DataSource's
 * `isolationLevel`, when set, costs one more (SET TRANSACTION), as with
 * `dataSource.transaction()`.
 *
 * Isolation is the session's (InnoDB's default: REPEATABLE READ): the claim
 * reads with locks (the upsert's `RETURNING`, or `SELECT ... FOR UPDATE`),
 * which see the latest committed record whatever the isolation, and opens
 * no snapshot before the operation's first read.
 *
 * The claim waits for a concurrent transaction holding the key for at most
 * `wait` ms, rounded up to whole seconds ({@link lockWaitSeconds}; 0 is no
 * wait on MariaDB, 1 s on MySQL): MariaDB scopes `innodb_lock_wait_timeout`
 * to the claim with `SET STATEMENT`; on MySQL the session's is set for the
 * claim and restored after it. A wait in vain answers as in flight. A
 * deadlock in the claim rolls back the whole transaction: a transaction of
 * its own is begun again and claims again (the claim is its first statement,
 * so nothing is lost); a joined one's caller lost its transaction, and gets
 * the server's error (1213) to retry it.
 *
 * The query runner's transaction state is kept true (`isTransactionActive`,
 * depth 1), so the operation's own `manager.transaction()` nests in a
 * savepoint, and its subscribers hear the transaction events.
 */
export class MysqlTransaction implements IdempotencyTransaction {
  /** A transaction (or savepoint) of ours is open on the connection. */
  private opened = false;
  private began = false;
  private ended = false;
  private readonly savepoint = `nestjs_idempotency_${++savepoints}`;

  private constructor(
    private readonly runner: TransactionRunner,
    private readonly connection: MysqlPool,
    private readonly statements: MysqlStatements,
    /** The server has `INSERT ... RETURNING` and `SET STATEMENT`, and takes a lock wait of 0 (MariaDB 10.5+). */
    private readonly mariadb: boolean,
    /** The DataSource's `isolationLevel` option, set for a transaction of its own. */
    private readonly isolationLevel: string | undefined,
  ) {}

  /** Joined the caller's transaction: a savepoint, released or rolled back to; the caller commits. */
  private get joined(): boolean {
    return this.runner.joined;
  }

  /** Opens a transaction on the pool of `dataSource`, or joins that of `join`. */
  static async open(dataSource: DataSource, claims: MysqlClaims, join?: unknown): Promise<MysqlTransaction> {
    const runner = TransactionRunner.of(dataSource, join, ['mysql', 'mariadb']);
    try {
      const connection = (await runner.connect()) as MysqlPool;
      const mariadb = await claims.returning(connection);
      const isolationLevel = (dataSource.options as { isolationLevel?: string }).isolationLevel;
      return new MysqlTransaction(runner, connection, claims.statements, mariadb, isolationLevel);
    } catch (error) {
      await runner.release();
      throw classify(error);
    }
  }

  get manager(): EntityManager {
    return this.runner.manager;
  }

  async claim({ fingerprint, token, lockTimeout, ...id }: ClaimRequest, wait: number): Promise<ClaimResult> {
    const identity = identityBytes(id);
    assertFingerprintFits(fingerprint);
    const values = claimValues(identity, fingerprint, token, lockTimeout);
    const seconds = lockWaitSeconds(wait, this.mariadb);
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.opened) await this.open();
        const rows = await claimWithLockWait((sql, args) => this.run(sql, args), this.statements, this.mariadb, seconds, [values, identity]);
        const [record] = rows as unknown as ClaimedRecord[];
        return claimResult(record?.token === token, record);
      } catch (error) {
        const errno = errnoOf(error);
        if (errno === MYSQL_LOCK_WAIT_TIMEOUT) return this.heldByAnother(error);
        if (errno !== MYSQL_DEADLOCK) throw classify(error);
        this.opened = false; // InnoDB rolled back the whole transaction
        if (this.joined || attempt >= CLAIM_ATTEMPTS) throw error;
      }
    }
  }

  async commit(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number): Promise<void> {
    // No announcement on MySQL: waiters wait on the record's row lock, which the commit releases.
    if (this.ended) throw new Error('the idempotency transaction has already ended');
    const values = [response.status, JSON.stringify(response.headers), response.body, microseconds(ttl), ...identityBytes(id), token];
    await this.runner.broadcast('BeforeTransactionCommit');
    try {
      const { affectedRows } = await this.run(this.statements.complete, values);
      if (affectedRows !== 1) throw new Error(`the idempotency record of key ${JSON.stringify(id.key)} is gone from its own transaction`);
      await this.run(this.joined ? `RELEASE SAVEPOINT ${this.savepoint}` : 'COMMIT', []);
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
      await this.run(this.joined ? `ROLLBACK TO SAVEPOINT ${this.savepoint}` : 'ROLLBACK', []).catch(() => undefined);
      this.opened = false;
    }
    await this.end(this.began ? 'AfterTransactionRollback' : undefined);
  }

  /**
   * A lock wait in vain: the key is in flight. A joined transaction is rolled
   * back to its savepoint now, which tells whether the server kept the
   * caller's transaction (it does not under `innodb_rollback_on_timeout`):
   * if not, the caller gets the error, not an answer it could commit after.
   */
  private async heldByAnother(error: unknown): Promise<ClaimResult> {
    if (this.joined) {
      this.opened = false;
      const lost = await this.run(`ROLLBACK TO SAVEPOINT ${this.savepoint}`, []).then(
        () => false,
        (failure: unknown) => errnoOf(failure) === MYSQL_NO_SUCH_SAVEPOINT,
      );
      if (lost) throw error;
    }
    return HELD_BY_ANOTHER_TRANSACTION;
  }

  /** Begins the transaction (or sets the savepoint), and marks the query runner in it, as its own `startTransaction()` does. */
  private async open(): Promise<void> {
    if (this.joined) {
      await this.run(`SAVEPOINT ${this.savepoint}`, []);
    } else {
      if (this.isolationLevel) await this.run(`SET TRANSACTION ISOLATION LEVEL ${this.isolationLevel}`, []);
      await this.run('START TRANSACTION', []);
    }
    this.opened = true;
    if (this.began) return;
    this.began = true;
    await this.runner.began();
  }

  /** Ends the transaction: the query runner out of it and, unless joined, back to the pool. */
  private async end(event?: string): Promise<void> {
    this.ended = true;
    await this.runner.ended(event);
  }

  /** One statement on the transaction's connection: one round trip. */
  private run(sql: string, values: unknown[]): Promise<MysqlResult> {
    return runStatement(this.connection, sql, values);
  }

}
