import type { MysqlResult } from './mysql-pool.js';
import type { MysqlStatements } from './mysql-statements.js';

/**
 * The bounded wait of an atomic claim on InnoDB: `innodb_lock_wait_timeout`,
 * in whole seconds, bounds each wait of a statement for a row lock another
 * transaction holds; the statement then fails with
 * {@link MYSQL_LOCK_WAIT_TIMEOUT} (only the statement is undone, unless the
 * server runs with `innodb_rollback_on_timeout`).
 */

/** ER_LOCK_WAIT_TIMEOUT: a lock wait ran past `innodb_lock_wait_timeout`. */
export const MYSQL_LOCK_WAIT_TIMEOUT = 1205;

/** ER_LOCK_DEADLOCK: InnoDB chose the transaction as a deadlock's victim and rolled it back whole. */
export const MYSQL_DEADLOCK = 1213;

/** ER_SP_DOES_NOT_EXIST, as `ROLLBACK TO SAVEPOINT` answers for a savepoint the server no longer has. */
export const MYSQL_NO_SUCH_SAVEPOINT = 1305;

/** InnoDB's largest `innodb_lock_wait_timeout`. */
const MAX_SECONDS = 1_073_741_824;

/** The session variable that keeps the connection's own timeout while a claim runs with its wait (MySQL). */
const SAVED = '@nestjs_idempotency_lock_wait';

/** Gives the session back the lock wait timeout the MySQL claim kept. */
const RESTORE = `SET SESSION innodb_lock_wait_timeout = ${SAVED}`;

/**
 * `wait` ms as a lock wait timeout: rounded up to whole seconds, so a
 * duplicate waits at least as long as asked (at most 999 ms more). Wait 0
 * is 0 (no wait at all) where the server takes it (`nowait`: MariaDB 10.3
 * and later), else 1 s, InnoDB's least on MySQL.
 */
export function lockWaitSeconds(wait: number, nowait: boolean): number {
  return Math.min(MAX_SECONDS, Math.max(nowait ? 0 : 1, Math.ceil(wait / 1000)));
}

/** Runs one statement on a transaction's connection (one round trip). */
export type RunStatement = (sql: string, values: unknown[]) => Promise<MysqlResult>;

/**
 * Runs the claim in a transaction, its lock waits bounded by `seconds`;
 * resolves the record's rows. MariaDB 10.5+ (`mariadb`): the upsert with
 * `RETURNING`, the timeout scoped to it by `SET STATEMENT` (one round trip).
 * MySQL, which has neither: the session's timeout set (its own kept), the
 * upsert, the record read with a lock (the latest committed row, whatever
 * the isolation level), the session's timeout restored, also after a
 * failure (four round trips).
 */
export async function claimWithLockWait(
  run: RunStatement,
  statements: MysqlStatements,
  mariadb: boolean,
  seconds: number,
  [values, identity]: [claim: unknown[], identity: unknown[]],
): Promise<MysqlResult> {
  if (mariadb) return run(`SET STATEMENT innodb_lock_wait_timeout=${seconds} FOR ${statements.claimReturning.trim()}`, values);
  await run(`SET ${SAVED} = @@SESSION.innodb_lock_wait_timeout, SESSION innodb_lock_wait_timeout = ${seconds}`, []);
  let rows: MysqlResult;
  try {
    await run(statements.claim, values);
    rows = await run(`${statements.readRecord} FOR UPDATE`, identity);
  } catch (error) {
    await run(RESTORE, []).catch(() => undefined);
    throw error;
  }
  await run(RESTORE, []);
  return rows;
}

/** The server's error number of a failed statement, 0 for none. */
export function errnoOf(error: unknown): number {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? errno : 0;
}
