import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';

/** The SQL dialects of TypeOrmIdempotencyStore. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

const DIALECT_OF_TYPE: Record<string, SqlDialect> = {
  postgres: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  'better-sqlite3': 'sqlite',
  sqljs: 'sqlite',
};

/**
 * The dialect of a DataSource `type`.
 * @throws IdempotencyConfigurationError for a type no dialect speaks.
 */
export function sqlDialectOf(type: string): SqlDialect {
  const dialect = DIALECT_OF_TYPE[type];
  if (dialect) return dialect;
  throw new IdempotencyConfigurationError(
    'TypeOrmIdempotencyStore supports PostgreSQL, MySQL/MariaDB and SQLite (better-sqlite3, sqljs) DataSources, ' +
      `not type "${type}". Pass another \`store\` to IdempotencyModule.forRoot(), ` +
      'e.g. new InMemoryIdempotencyStore() for a single process.',
  );
}
