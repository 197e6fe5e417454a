import { createHash } from 'node:crypto';

/** One SQL statement, and the name it is prepared under on each connection. */
export interface Statement {
  name: string;
  text: string;
}

/** The SQL of the PostgreSQL dialect, one statement per operation. */
export interface Statements {
  /** The table, quoted and schema-qualified as in the statements. */
  table: string;
  claim: Statement;
  /**
   * Atomic mode's claim: the claim, done only once the transaction holds the
   * key's advisory lock ($7, $8: two int4 halves of a hash of the record),
   * which a concurrent atomic claim of the key holds until it commits or
   * rolls back; else (column `open` false) it does nothing. Without waiting.
   */
  claimAtomic: Statement;
  /** {@link claimAtomic}, waiting for the advisory lock (bounded by `lock_timeout`). */
  claimAtomicWaiting: Statement;
  complete: Statement;
  /** `complete`, and `pg_notify($9, $10)` when it completed the record (wait mode). */
  completeAnnounced: Statement;
  release: Statement;
  /** `release`, and `pg_notify($5, $6)` when it deleted the record (wait mode). */
  releaseAnnounced: Statement;
  extendLease: Statement;
  purgeExpired: Statement;
  /** Operator API: the live record (not expired) with its token, or no row. */
  find: Statement;
}

const quoteTable = (table: string) =>
  table
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');

/** `$n` milliseconds from now, as a timestamp. */
const fromNow = (param: string) => `now() + ${param}::float8 * interval '1 millisecond'`;

const ID = 'scope = $1 AND principal = $2 AND key = $3';

/**
 * Builds the statements for `table`. Parameters: $1 scope, $2 principal,
 * $3 key, $4 token (fingerprint in claim), then per statement.
 */
export function buildStatements(table: string): Statements {
  const quoted = quoteTable(table);
  const texts = buildTexts(quoted);
  const named = (operation: keyof typeof texts): Statement => ({
    // Unique per text: a connection keeps each name for one statement.
    name: `nestjs-idempotency:${operation}:${createHash('sha256').update(texts[operation]).digest('hex').slice(0, 12)}`,
    text: texts[operation],
  });
  return {
    table: quoted,
    claim: named('claim'),
    claimAtomic: named('claimAtomic'),
    claimAtomicWaiting: named('claimAtomicWaiting'),
    complete: named('complete'),
    completeAnnounced: named('completeAnnounced'),
    release: named('release'),
    releaseAnnounced: named('releaseAnnounced'),
    extendLease: named('extendLease'),
    purgeExpired: named('purgeExpired'),
    find: named('find'),
  };
}

function buildTexts(t: string): Record<Exclude<keyof Statements, 'table'>, string> {
  const complete = `
      UPDATE ${t}
      SET status = 'completed', response_status = $5, response_headers = $6::jsonb, response_body = $7,
          completed_at = now(), locked_until = NULL, expires_at = ${fromNow('$8')}
      WHERE ${ID} AND token = $4`;
  const release = `DELETE FROM ${t} WHERE ${ID} AND token = $4`;
  // One row (the notification) when the write hit the record: the same row count as the write alone.
  const announced = (write: string, channel: string, name: string) =>
    `WITH written AS (${write} RETURNING 1) SELECT pg_notify(${channel}, ${name}) FROM written`;
  return {
    /*
     * One round trip: insert as processing; else take over a row that expired
     * (completed past its ttl, or processing past its lease: expires_at is the
     * lease end while processing); else read the row in the way. The final
     * SELECT sees the statement's snapshot: a row inserted by a concurrent
     * claim after it began is invisible, so `status` is NULL and the caller
     * claims again. (`EXISTS ... OR EXISTS ...` rather than one EXISTS over a
     * UNION ALL: same result, about 10% less server CPU per claim, see the
     * benchmark's README section. Both CTEs run whatever the SELECT reads.)
     */
    claim: claimText(t),
    claimAtomic: claimText(t, 'pg_try_advisory_xact_lock($7::int4, $8::int4)'),
    claimAtomicWaiting: claimText(t, "pg_advisory_xact_lock($7::int4, $8::int4)::text = ''"),
    complete,
    completeAnnounced: announced(complete, '$9', '$10'),
    release,
    releaseAnnounced: announced(release, '$5', '$6'),
    extendLease: `
      UPDATE ${t} SET locked_until = ${fromNow('$5')}, expires_at = ${fromNow('$5')}
      WHERE ${ID} AND token = $4 AND status = 'processing'`,
    purgeExpired: `
      DELETE FROM ${t}
      WHERE (scope, principal, key) IN (
        SELECT scope, principal, key FROM ${t} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED
      ) AND expires_at <= now()`,
    // Expired by the claim's rule (expires_at <= now()): claimable, so not found.
    find: `
      SELECT status, token, fingerprint, extract(epoch FROM expires_at - now())::float8 * 1000 AS expires_in_ms, response_status
      FROM ${t} WHERE ${ID} AND expires_at > now()`,
  };
}

/*
 * One round trip: insert as processing; else take over a row that expired
 * (completed past its ttl, or processing past its lease: expires_at is the
 * lease end while processing); else read the row in the way. The final
 * SELECT sees the statement's snapshot: a row inserted by a concurrent
 * claim after it began is invisible, so `status` is NULL and the caller
 * claims again. (`EXISTS ... OR EXISTS ...` rather than one EXISTS over a
 * UNION ALL: same result, about 10% less server CPU per claim, see the
 * benchmark's README section. Both CTEs run whatever the SELECT reads.)
 *
 * With `gate` (atomic mode: a boolean expression that takes the key's
 * advisory lock), the insert and the takeover happen only when it is true,
 * and the row says whether it was (`open`): the gate is evaluated before
 * the insert, so a claim never waits on another transaction's uncommitted
 * row, only (if at all) on the advisory lock.
 */
function claimText(t: string, gate?: string): string {
  const open = gate ? ' AND (SELECT open FROM gate)' : '';
  return `
      WITH ${gate ? `gate AS (SELECT ${gate} AS open), ` : ''}inserted AS (
        INSERT INTO ${t} (scope, principal, key, fingerprint, status, token, locked_until, expires_at)
        ${gate ? 'SELECT ' : 'VALUES ('}$1, $2, $3, $4, 'processing', $5, ${fromNow('$6')}, ${fromNow('$6')}${gate ? ' WHERE (SELECT open FROM gate)' : ')'}
        ON CONFLICT (scope, principal, key) DO NOTHING
        RETURNING 1
      ), taken_over AS (
        UPDATE ${t}
        SET fingerprint = $4, status = 'processing', token = $5,
            locked_until = ${fromNow('$6')}, expires_at = ${fromNow('$6')}, created_at = now(),
            completed_at = NULL, response_status = NULL, response_headers = NULL, response_body = NULL
        WHERE ${ID} AND expires_at <= now() AND NOT EXISTS (SELECT 1 FROM inserted)${open}
        RETURNING 1
      )
      SELECT EXISTS (SELECT FROM inserted) OR EXISTS (SELECT FROM taken_over) AS claimed,${gate ? ' (SELECT open FROM gate) AS open,' : ''}
             r.fingerprint, r.status,
             extract(epoch FROM r.expires_at - now())::float8 * 1000 AS expires_in_ms,
             r.response_status, r.response_headers, r.response_body
      FROM (SELECT 1) AS one
      LEFT JOIN ${t} AS r ON r.scope = $1 AND r.principal = $2 AND r.key = $3`;
}

/**
 * Whether a claim took over a record in flight whose lease had run out
 * (rather than inserting it, or taking over an expired completed record).
 * The claim's SELECT reads the statement's snapshot, which its own CTEs'
 * writes are not part of: after a takeover, its row is the record as it was
 * before. No extra round trip.
 */
export function tookOverLapsedLease(row: { claimed: boolean; status: string | null; expires_in_ms: number | string | null }): boolean {
  return row.claimed && row.status === 'processing' && Number(row.expires_in_ms) <= 0;
}
