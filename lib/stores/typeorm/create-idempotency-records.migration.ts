import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MYSQL_TABLE_DDL } from './mysql/mysql-schema.js';
import { POSTGRES_TABLE_DDL } from './postgres/postgres-schema.js';
import { sqlDialectOf } from './sql-dialect.js';
import type { RecordsTableDdl } from './sql-records.js';
import { SQLITE_TABLE_DDL } from './sqlite/sqlite-schema.js';

/**
 * Creates the `idempotency_records` table in the dialect of the DataSource
 * it runs on (PostgreSQL, MySQL/MariaDB, SQLite): the same table
 * `synchronize: true` builds from that dialect's record entity.
 *
 * @example
 * new DataSource({ type: 'postgres', url, migrations: [CreateIdempotencyRecords], migrationsRun: true })
 */
export class CreateIdempotencyRecords implements MigrationInterface {
  name = 'CreateIdempotencyRecords1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of ddlOf(queryRunner).create) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of ddlOf(queryRunner).drop) await queryRunner.query(statement);
  }
}

const TABLE_DDL = { postgres: POSTGRES_TABLE_DDL, mysql: MYSQL_TABLE_DDL, sqlite: SQLITE_TABLE_DDL };

function ddlOf(queryRunner: QueryRunner): RecordsTableDdl {
  return TABLE_DDL[sqlDialectOf(queryRunner.connection.options.type)];
}
