import type { DataSource } from 'typeorm';
import { IdempotencyConfigurationError } from '../../../errors/idempotency-configuration.error.js';

/** What a statement resolves: rows for a SELECT (or RETURNING), a result header for a write. */
export type MysqlResult = Record<string, unknown>[] & { affectedRows?: number };

/** The part of a mysql2 (callback) `Pool`, or a cluster's pool namespace, the store uses. */
export interface MysqlPool {
  query(options: MysqlQueryOptions, callback: (error: Error | null, result: MysqlResult) => void): unknown;
}

/** A mysql2 `Pool` the store opened itself. */
export interface OwnMysqlPool extends MysqlPool {
  on(event: 'connection', listener: (connection: { on(event: 'error', listener: () => void): void }) => void): unknown;
  end(callback: (error?: Error | null) => void): void;
}

/** The options of one statement: the text protocol, positional `?`, plain row objects whatever the pool's defaults. */
interface MysqlQueryOptions {
  sql: string;
  values: unknown[];
  namedPlaceholders: false;
  rowsAsArray: false;
  nestTables: false;
}

/** The parts of TypeORM's MysqlDriver (`type: 'mysql'` and `'mariadb'`) the store uses. */
export interface MysqlDriverInternals {
  /** The mysql2 module the driver loaded (or the DataSource's `driver` option). */
  mysql: { createPool(options: Record<string, unknown>): OwnMysqlPool };
  /** The DataSource's pool, without replication. */
  pool?: MysqlPool;
  /** The DataSource's pools, with replication: `MASTER` and `SLAVE<n>`. */
  poolCluster?: { of(pattern: string): MysqlPool };
  options: Record<string, unknown> & { replication?: { master: Record<string, unknown> } };
  /** Connection options of the driver's pools, built from the DataSource's options and one server's credentials. */
  createConnectionOptions(options: unknown, credentials: unknown): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** TypeORM's MySQL driver of an initialized DataSource, with the internals the store relies on. */
export function mysqlDriverOf(dataSource: DataSource): MysqlDriverInternals {
  const driver = dataSource.driver as unknown as Partial<MysqlDriverInternals>;
  if (!driver.mysql?.createPool || typeof driver.createConnectionOptions !== 'function' || !(driver.pool || driver.poolCluster)) {
    throw new IdempotencyConfigurationError(
      'TypeOrmIdempotencyStore on MySQL/MariaDB needs an initialized DataSource of TypeORM\'s MySQL driver (mysql2). ' +
        'Initialize it before the first request, or pass another `store`.',
    );
  }
  return driver as MysqlDriverInternals;
}

/** The pool the application's writes go to: the DataSource's pool, or the master of its replication cluster. */
export function writePoolOf(driver: MysqlDriverInternals): MysqlPool {
  return driver.pool ?? driver.poolCluster!.of('MASTER');
}

/** Runs one statement on a pooled connection: one round trip (a COM_QUERY, values escaped by mysql2). */
export function runStatement(pool: MysqlPool, sql: string, values: unknown[]): Promise<MysqlResult> {
  return new Promise((resolve, reject) => {
    pool.query({ sql, values, namedPlaceholders: false, rowsAsArray: false, nestTables: false }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}
