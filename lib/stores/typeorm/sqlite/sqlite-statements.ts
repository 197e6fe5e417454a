import { SQLITE_NOW, SQLITE_NOW_PLUS_PARAM_MS, sqliteMsUntil } from './sqlite-time.js';

/**
 * The SQL of the SQLite dialect, one statement per operation, with `?`
 * parameters in the order each comment gives (the drivers bind by position
 * only). Every write ends in `RETURNING`, so both drivers hand back rows
 * through `DataSource.query()`, and a fenced write's row count is whether it acted.
 */
export interface SqliteStatements {
  /** The table, quoted (and qualified by its attached database, if any). */
  table: string;
  /** The table's database (`main`, or an attached one), quoted: where its `sqlite_master` is. */
  database: string;
  /** The table's name, unquoted, as `sqlite_master` lists it. */
  name: string;
  /** scope, principal, key, fingerprint, token, lockTimeout, lockTimeout → the row, claimed or in the way. */
  claim: string;
  /** status, headers, body, ttl, scope, principal, key, token → one row when the token owned the record. */
  complete: string;
  /** scope, principal, key, token → one row when the token owned the record. */
  release: string;
  /** lockTimeout, lockTimeout, scope, principal, key, token → one row when the token holds the lease. */
  extendLease: string;
  /** limit → one row per record deleted. */
  purgeExpired: string;
  /** Operator API: scope, principal, key → the live record (not expired) with its token, or no row. */
  find: string;
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** The record's identity, then its token. */
const OWNED_BY_TOKEN = `scope = ? AND principal = ? AND "key" = ? AND token = ?`;

/** Whether the row in the way of a claim expired: ended its lease while processing, or its ttl after. */
const EXPIRED = `expires_at <= ${SQLITE_NOW}`;

/** On conflict, each column takes the claim's value when the existing row expired, else keeps its own. */
const takeOverIfExpired = (column: string, value = `excluded.${column}`) =>
  `${column} = CASE WHEN ${EXPIRED} THEN ${value} ELSE ${column} END`;

/** Builds the statements for `table` (`name` or `database.name`). */
export function buildSqliteStatements(table: string): SqliteStatements {
  const parts = table.split('.');
  const name = parts.pop()!;
  const database = quote(parts.join('.') || 'main');
  const t = parts.length ? `${database}.${quote(name)}` : quote(name);
  return {
    table: t,
    database,
    name,
    /*
     * One atomic statement (SQLite runs one writer at a time): insert as
     * processing, or, on conflict, update the row in the way. The update
     * always happens, so RETURNING always gives the row; it changes the row
     * only when the row expired (SQLite evaluates every SET expression against
     * the old row, so each CASE sees the old expires_at). The claim won when
     * the returned token is its own; otherwise the row is the one in the way.
     */
    claim: `INSERT INTO ${t} (scope, principal, "key", fingerprint, status, token, locked_until, expires_at, created_at)
      VALUES (?, ?, ?, ?, 'processing', ?, ${SQLITE_NOW_PLUS_PARAM_MS}, ${SQLITE_NOW_PLUS_PARAM_MS}, ${SQLITE_NOW})
      ON CONFLICT (scope, principal, "key") DO UPDATE SET
        ${[
          takeOverIfExpired('fingerprint'),
          takeOverIfExpired('status'),
          takeOverIfExpired('token'),
          takeOverIfExpired('locked_until'),
          takeOverIfExpired('created_at'),
          takeOverIfExpired('completed_at', 'NULL'),
          takeOverIfExpired('response_status', 'NULL'),
          takeOverIfExpired('response_headers', 'NULL'),
          takeOverIfExpired('response_body', 'NULL'),
          takeOverIfExpired('expires_at'),
        ].join(',\n        ')}
      RETURNING token, fingerprint, status, ${sqliteMsUntil('expires_at')} AS expires_in_ms,
        response_status, response_headers, response_body`,
    complete: `UPDATE ${t}
      SET status = 'completed', response_status = ?, response_headers = ?, response_body = ?,
          completed_at = ${SQLITE_NOW}, locked_until = NULL, expires_at = ${SQLITE_NOW_PLUS_PARAM_MS}
      WHERE ${OWNED_BY_TOKEN}
      RETURNING 1`,
    release: `DELETE FROM ${t} WHERE ${OWNED_BY_TOKEN} RETURNING 1`,
    extendLease: `UPDATE ${t}
      SET locked_until = ${SQLITE_NOW_PLUS_PARAM_MS}, expires_at = ${SQLITE_NOW_PLUS_PARAM_MS}
      WHERE ${OWNED_BY_TOKEN} AND status = 'processing'
      RETURNING 1`,
    purgeExpired: `DELETE FROM ${t}
      WHERE rowid IN (SELECT rowid FROM ${t} WHERE ${EXPIRED} ORDER BY expires_at LIMIT ?)
      RETURNING 1`,
    // Expired by the claim's rule: claimable, so not found.
    find: `SELECT status, token, fingerprint, ${sqliteMsUntil('expires_at')} AS expires_in_ms, response_status
      FROM ${t} WHERE scope = ? AND principal = ? AND "key" = ? AND NOT ${EXPIRED}`,
  };
}
