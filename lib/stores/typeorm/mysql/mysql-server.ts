import type { TypeOrmIdempotencyStoreOptions } from '../typeorm-idempotency-store.options.js';

/** What the store needs to know of the server behind a DataSource. */
export interface MysqlServer {
  /** `INSERT ... RETURNING` (MariaDB 10.5 and later): a claim costs one round trip instead of two. */
  insertReturning: boolean;
}

/** The server of a `VERSION()` text, e.g. `10.11.6-MariaDB-0+deb12u1` or `8.4.3`. */
export function mysqlServerOf(version: string): MysqlServer {
  const [major = 0, minor = 0] = (/^(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  return { insertReturning: /mariadb/i.test(version) && (major > 10 || (major === 10 && minor >= 5)) };
}

/**
 * Not public (tests only): options whose store claims in two statements
 * (upsert, then SELECT) as on MySQL, even on a MariaDB that has
 * `INSERT ... RETURNING`, so one MariaDB server tests both paths.
 */
const WITHOUT_INSERT_RETURNING = Symbol('nestjs-idempotency: mysql claims without INSERT ... RETURNING');

/** `options` for a store that claims the MySQL way (two statements) on any server. For tests. */
export function withoutInsertReturning(options: TypeOrmIdempotencyStoreOptions = {}): TypeOrmIdempotencyStoreOptions {
  return Object.assign({ ...options }, { [WITHOUT_INSERT_RETURNING]: true });
}

/** Whether `options` came from {@link withoutInsertReturning}. */
export function insertReturningDisabled(options: TypeOrmIdempotencyStoreOptions): boolean {
  return (options as Record<symbol, unknown>)[WITHOUT_INSERT_RETURNING] === true;
}
