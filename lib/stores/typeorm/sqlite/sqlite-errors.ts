import { IdempotencyStoreConnectionError } from '../../../errors/idempotency-store-connection.error.js';

/**
 * What the drivers say about a connection closed behind TypeORM's back:
 * better-sqlite3 ("The database connection is not open"), sql.js
 * ("Database closed"), TypeORM ("Connection with sqlite database is not established").
 */
const CLOSED_MESSAGE = /database connection is not open|database closed|connection with sqlite database is not established/i;

/**
 * The error to throw for a failed statement. SQLite is a file in this
 * process, not a server: the one outage is a closed database (a destroyed
 * DataSource, as during shutdown, or a closed driver connection), thrown as
 * {@link IdempotencyStoreConnectionError} (503 or `failOpen`). Everything
 * else passes as is, permanent: a missing table, a read-only file, and
 * `SQLITE_BUSY` too — another connection held the write lock past the
 * driver's busy timeout, which SQLite already waited out.
 *
 * @param databaseOpen whether the DataSource is still initialized (sql.js
 *   reports a statement on a closed database as "out of memory").
 */
export function classifySqliteError(error: unknown, databaseOpen: boolean): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (!databaseOpen || CLOSED_MESSAGE.test(message)) {
    return new IdempotencyStoreConnectionError(`SQLite database closed: ${message}`, { cause: error });
  }
  return error;
}
