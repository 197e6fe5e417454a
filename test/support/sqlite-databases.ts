import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  CreateIdempotencyRecords,
  SqliteIdempotencyRecord,
  type ClaimRequest,
  type IdempotencyRecordId,
} from '../../lib/index.js';

/** The record the SQLite store specs claim. */
export const ID: IdempotencyRecordId = { scope: 'POST /orders', principal: 'alice', key: 'key-1' };

/** A claim of `id` with a fresh token. */
export const claimOf = (id: IdempotencyRecordId, lockTimeout = 60_000, fingerprint = 'fp'): ClaimRequest => ({
  ...id,
  fingerprint,
  token: randomUUID(),
  lockTimeout,
});

/** The SQLite databases the SQLite store is tested on. */
export type SqliteKind = 'better-sqlite3 in memory' | 'better-sqlite3 file (WAL)' | 'sqljs';
export const SQLITE_KINDS: SqliteKind[] = ['better-sqlite3 in memory', 'better-sqlite3 file (WAL)', 'sqljs'];

/** A directory of its own for database files; `remove()` deletes it and everything in it. */
export async function sqliteDirectory(): Promise<{ path: string; file: (name: string) => string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'nestjs-idempotency-sqlite-'));
  return { path, file: (name) => join(path, name), remove: () => rm(path, { recursive: true, force: true }) };
}

/** Options of a better-sqlite3 DataSource. */
export type BetterSqlite3Options = Extract<DataSourceOptions, { type: 'better-sqlite3' }>;

/** DataSource options of a better-sqlite3 database file in WAL mode, as several connections share one. */
export function walFileOptions(database: string): BetterSqlite3Options {
  return { type: 'better-sqlite3', database, enableWAL: true };
}

/** DataSource options of one kind of SQLite database; `file` is where a file database lives. */
export function sqliteOptions(kind: SqliteKind, file: string): DataSourceOptions {
  if (kind === 'sqljs') return { type: 'sqljs' };
  if (kind === 'better-sqlite3 in memory') return { type: 'better-sqlite3', database: ':memory:' };
  return walFileOptions(file);
}

/**
 * An initialized DataSource on `options`, its table made one of the two
 * supported ways: `synchronize` from `SqliteIdempotencyRecord`, or the
 * `CreateIdempotencyRecords` migration (no entity).
 */
export async function openSqlite(options: DataSourceOptions, schema: 'synchronize' | 'migration' | 'none' = 'synchronize') {
  const dataSource = new DataSource({
    ...options,
    ...(schema === 'synchronize' ? { entities: [SqliteIdempotencyRecord], synchronize: true } : {}),
    ...(schema === 'migration' ? { migrations: [CreateIdempotencyRecords], migrationsRun: true } : {}),
  } as DataSourceOptions);
  return dataSource.initialize();
}
