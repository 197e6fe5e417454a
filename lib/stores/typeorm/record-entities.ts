import { MysqlIdempotencyRecord } from './mysql/mysql-idempotency-record.entity.js';
import { IdempotencyRecord } from './postgres/idempotency-record.entity.js';
import { SqliteIdempotencyRecord } from './sqlite/sqlite-idempotency-record.entity.js';

/**
 * The record entity of each dialect: TypeORM checks column types against
 * the driver, and no one type is bytes (or a timestamp) on PostgreSQL, MySQL
 * and SQLite alike, so each has its own class over the same table and
 * properties.
 */
export const RECORD_ENTITIES = [IdempotencyRecord, MysqlIdempotencyRecord, SqliteIdempotencyRecord];

/** One of the record entities. */
export type RecordEntity = (typeof RECORD_ENTITIES)[number];
