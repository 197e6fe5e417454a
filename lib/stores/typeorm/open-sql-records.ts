import type { DataSource } from 'typeorm';
import { MysqlRecords } from './mysql/mysql-records.js';
import { PostgresRecords } from './postgres/postgres-records.js';
import { RECORD_ENTITIES } from './record-entities.js';
import { IDEMPOTENCY_RECORDS_TABLE, type SqlRecords, type SqlRecordsContext } from './sql-records.js';
import { type SqlDialect, sqlDialectOf } from './sql-dialect.js';
import { SqliteRecords } from './sqlite/sqlite-records.js';
import type { TypeOrmIdempotencyStoreOptions } from './typeorm-idempotency-store.options.js';

const RECORDS_OF_DIALECT: Record<SqlDialect, new (context: SqlRecordsContext) => SqlRecords> = {
  postgres: PostgresRecords,
  mysql: MysqlRecords,
  sqlite: SqliteRecords,
};

/** The SQL dialect of an initialized DataSource, by its `type`. */
export function openSqlRecords(dataSource: DataSource, options: TypeOrmIdempotencyStoreOptions): SqlRecords {
  const Records = RECORDS_OF_DIALECT[sqlDialectOf(dataSource.options.type)];
  return new Records({ dataSource, table: options.table ?? tableOf(dataSource), options });
}

/** Where the DataSource keeps a record entity, else the default table in its schema. */
function tableOf(dataSource: DataSource): string {
  const entity = RECORD_ENTITIES.find((candidate) => dataSource.hasMetadata(candidate));
  if (entity) return dataSource.getMetadata(entity).tablePath;
  const schema = (dataSource.options as { schema?: string }).schema;
  return schema ? `${schema}.${IDEMPOTENCY_RECORDS_TABLE}` : IDEMPOTENCY_RECORDS_TABLE;
}
