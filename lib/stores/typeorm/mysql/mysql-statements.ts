/** The SQL of the MySQL/MariaDB dialect, one statement per operation (two for a claim on MySQL). */
export interface MysqlStatements {
  /** The table, quoted and schema-qualified as in the statements. */
  table: string;
  /** MariaDB ≥ 10.5: the claim upsert, returning the record as it stands after it (one round trip). */
  claimReturning: string;
  /** MySQL: the claim upsert alone... */
  claim: string;
  /** ...then the record as it stands. Parameters: scope, principal, key. */
  readRecord: string;
  /** Parameters: response status, headers (JSON), body, ttl (µs), scope, principal, key, token. */
  complete: string;
  /** Parameters: scope, principal, key, token. */
  release: string;
  /** Parameters: lease (µs), lease (µs), scope, principal, key, token. */
  extendLease: string;
  /** Parameters: limit. */
  purgeExpired: string;
  /** Operator API: the live record (not expired) with its token, or no row. Parameters: scope, principal, key. */
  find: string;
}

/** The database's clock, in UTC whatever the session's `time_zone` (DATETIME columns hold UTC). */
const NOW = 'UTC_TIMESTAMP(3)';

/** A parameter's microseconds from now. */
const FROM_NOW = `${NOW} + INTERVAL ? MICROSECOND`;

const EXPIRED = `expires_at <= ${NOW}`;

const ID = 'scope = ? AND principal = ? AND `key` = ?';

/** What a claim reads back: the record, its owner's token, and the milliseconds left before it expires. */
const RECORD_COLUMNS =
  `fingerprint, status, token, TIMESTAMPDIFF(MICROSECOND, ${NOW}, expires_at) / 1000 AS expires_in_ms, ` +
  'response_status, response_headers, response_body';

/** `column = value` when the existing row expired, else unchanged. */
const takeOver = (column: string, value: string) => `${column} = IF(${EXPIRED}, ${value}, ${column})`;

const quoteTable = (table: string) =>
  table
    .split('.')
    .map((part) => `\`${part.replaceAll('`', '``')}\``)
    .join('.');

/**
 * Builds the statements for `table`. Claim parameters, in order
 * ({@link claimValues}): scope, principal, key, fingerprint, token, lease
 * (µs) twice for the insert, then fingerprint, token, lease twice again for
 * the take-over.
 */
export function buildMysqlStatements(table: string): MysqlStatements {
  const t = quoteTable(table);
  /*
   * Insert as processing; on a duplicate key take the row over only if it
   * expired (completed past its ttl, or processing past its lease:
   * expires_at is the lease end while processing), else leave it as it is.
   * The row lock of the upsert makes concurrent claims queue: one wins.
   * MySQL assigns left to right and later assignments see the new values,
   * so `expires_at`, which every condition reads, is assigned last.
   */
  const claim = `
    INSERT INTO ${t} (scope, principal, \`key\`, fingerprint, status, token, locked_until, created_at, expires_at)
    VALUES (?, ?, ?, ?, 'processing', ?, ${FROM_NOW}, ${NOW}, ${FROM_NOW})
    ON DUPLICATE KEY UPDATE
      ${takeOver('fingerprint', '?')}, ${takeOver('status', "'processing'")}, ${takeOver('token', '?')},
      ${takeOver('locked_until', FROM_NOW)}, ${takeOver('created_at', NOW)}, ${takeOver('completed_at', 'NULL')},
      ${takeOver('response_status', 'NULL')}, ${takeOver('response_headers', 'NULL')}, ${takeOver('response_body', 'NULL')},
      ${takeOver('expires_at', FROM_NOW)}`;
  return {
    table: t,
    claim,
    claimReturning: `${claim}
    RETURNING ${RECORD_COLUMNS}`,
    readRecord: `SELECT ${RECORD_COLUMNS} FROM ${t} WHERE ${ID}`,
    complete: `
      UPDATE ${t}
      SET status = 'completed', response_status = ?, response_headers = ?, response_body = ?,
          completed_at = ${NOW}, locked_until = NULL, expires_at = ${FROM_NOW}
      WHERE ${ID} AND token = ?`,
    release: `DELETE FROM ${t} WHERE ${ID} AND token = ?`,
    extendLease: `
      UPDATE ${t} SET locked_until = ${FROM_NOW}, expires_at = ${FROM_NOW}
      WHERE ${ID} AND token = ? AND status = 'processing'`,
    // The expires_at index finds the oldest expired rows; LIMIT keeps each batch short.
    purgeExpired: `DELETE FROM ${t} WHERE ${EXPIRED} ORDER BY expires_at LIMIT ?`,
    // Expired by the claim's rule: claimable, so not found.
    find:
      `SELECT status, token, fingerprint, TIMESTAMPDIFF(MICROSECOND, ${NOW}, expires_at) / 1000 AS expires_in_ms, response_status ` +
      `FROM ${t} WHERE ${ID} AND NOT ${EXPIRED}`,
  };
}

/** Milliseconds as the whole microseconds of an `INTERVAL ? MICROSECOND`. */
export function microseconds(ms: number): number {
  return Math.round(ms * 1000);
}

/** The parameters of the claim statements, in their order. */
export function claimValues(id: Buffer[], fingerprint: string, token: string, lockTimeout: number): unknown[] {
  const lease = microseconds(lockTimeout);
  return [...id, fingerprint, token, lease, lease, fingerprint, token, lease, lease];
}
