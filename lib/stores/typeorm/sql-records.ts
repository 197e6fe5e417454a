import type { DataSource } from 'typeorm';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';
import type { ClaimResult, FoundRecord, IdempotencyRecordId, IdempotencyStore } from '../../interfaces/idempotency-store.interface.js';
import type { TypeOrmIdempotencyStoreOptions } from './typeorm-idempotency-store.options.js';

/** Name of the table that holds idempotency records. */
export const IDEMPOTENCY_RECORDS_TABLE = 'idempotency_records';

/**
 * One SQL dialect of {@link TypeOrmIdempotencyStore}: the store's operations
 * in the SQL of one database, each an atomic statement (or a fixed, stated
 * number of them), with time from the database's clock.
 */
export interface SqlRecords extends Omit<IdempotencyStore, 'verify'> {
  /** Throws an `IdempotencyConfigurationError` naming the fix when the table is missing. */
  verify(): Promise<void>;
  /** Releases what the dialect opened itself (a pool of its own), never the DataSource's. */
  close(): Promise<void>;
  /** Operator API: every dialect reads a record in one statement. */
  find(id: IdempotencyRecordId): Promise<FoundRecord | null>;
}

/** What a dialect is built from. */
export interface SqlRecordsContext {
  /** The application's DataSource, initialized. */
  dataSource: DataSource;
  /** The table, unquoted, `schema.table` or `table`. */
  table: string;
  options: TypeOrmIdempotencyStoreOptions;
}

/** The columns a claim reads back, as a driver returns them. */
export interface ClaimedRow {
  fingerprint: string | null;
  status: 'processing' | 'completed' | null;
  expires_in_ms: number | string | null;
  response_status: number | null;
  /** An object (PostgreSQL jsonb, MySQL JSON) or its JSON text (MariaDB, SQLite). */
  response_headers: Record<string, string> | string | null;
  response_body: Uint8Array | null;
}

/**
 * The {@link ClaimResult} of a claim statement: `claimed` (`takenOver`: a
 * lapsed lease was taken over, when the dialect can tell), else the row that
 * stood in the way (`undefined` or a NULL status: no row visible yet).
 */
export function claimResult(claimed: boolean, row: ClaimedRow | undefined, takenOver = false): ClaimResult {
  if (claimed) return takenOver ? { claimed: true, takenOver } : { claimed: true };
  if (!row?.status) return { claimed: false, existing: null };
  const headers = typeof row.response_headers === 'string' ? JSON.parse(row.response_headers) : row.response_headers;
  const body = row.response_body;
  return {
    claimed: false,
    existing: {
      fingerprint: row.fingerprint ?? '',
      status: row.status,
      expiresInMs: Number(row.expires_in_ms),
      response:
        row.response_status === null
          ? null
          : {
              status: Number(row.response_status),
              headers: headers ?? {},
              body: body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body),
            },
    },
  };
}

/** The columns `find` reads, as a driver returns them: only a live record (not expired) is selected. */
export interface FoundRow {
  status: 'processing' | 'completed';
  token: string;
  fingerprint: string | null;
  expires_in_ms: number | string;
  response_status: number | string | null;
}

/** The {@link FoundRecord} of a `find` statement's row; `null` without one. */
export function foundRecord(row: FoundRow | undefined): FoundRecord | null {
  if (!row) return null;
  return {
    status: row.status,
    token: row.token,
    fingerprint: row.fingerprint ?? '',
    expiresInMs: Number(row.expires_in_ms),
    responseStatus: row.response_status === null ? null : Number(row.response_status),
  };
}

/**
 * What an atomic-mode claim answers when it waited in vain for a concurrent
 * transaction holding the key (its row is invisible until it commits): a record in flight.
 */
export const HELD_BY_ANOTHER_TRANSACTION: ClaimResult = {
  claimed: false,
  existing: { fingerprint: '', status: 'processing', expiresInMs: 1, response: null },
};

/** The values of the record's primary key, in column order. */
export function idValues(id: IdempotencyRecordId): [string, string, string] {
  return [id.scope, id.principal, id.key];
}

/**
 * Runs one statement again, up to `attempts` times, while it fails with an
 * error `isRetryable` accepts (a deadlock, a serialization failure); a final
 * error goes through `classify` (connectivity failures become
 * `IdempotencyStoreConnectionError`).
 */
export async function retrying<T>(
  run: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  classify: (error: unknown) => unknown,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw classify(error);
    }
  }
}

/** The startup error of a missing table, naming both ways to create it. */
export function missingTableError(table: string, entity: string): IdempotencyConfigurationError {
  return new IdempotencyConfigurationError(
    `The idempotency table ${table} does not exist. Create it with the CreateIdempotencyRecords migration ` +
      `(migrations: [CreateIdempotencyRecords], migrationsRun: true), or let TypeORM build it: entities: [${entity}] ` +
      `(or autoLoadEntities: true${entity === 'IdempotencyRecord' ? '' : ` and IdempotencyModule.forRoot({ entity: ${entity} })`}) ` +
      'with synchronize: true.',
  );
}

/** The statements of the CreateIdempotencyRecords migration in one dialect, for the default table. */
export interface RecordsTableDdl {
  create: string[];
  drop: string[];
}
