import type { RecordsTableDdl } from '../sql-records.js';
import { SQLITE_NOW } from './sqlite-time.js';

/**
 * The columns as TypeORM writes them for `SqliteIdempotencyRecord`. SQLite
 * keeps the text of `CREATE TABLE`, and TypeORM reads the schema back by
 * parsing it, so the statement is the one `synchronize` sends, on one line.
 */
const COLUMNS = [
  `"scope" text NOT NULL`,
  `"principal" text NOT NULL`,
  `"key" varchar(255) NOT NULL`,
  `"fingerprint" varchar(64) NOT NULL`,
  `"status" varchar(16) NOT NULL`,
  `"token" varchar(36) NOT NULL`,
  `"locked_until" datetime`,
  `"response_status" smallint`,
  `"response_headers" json`,
  `"response_body" blob`,
  `"created_at" datetime NOT NULL DEFAULT (${SQLITE_NOW})`,
  `"completed_at" datetime`,
  `"expires_at" datetime NOT NULL`,
  `PRIMARY KEY ("scope", "principal", "key")`,
];

/** The `idempotency_records` table on SQLite, as `synchronize` builds it from `SqliteIdempotencyRecord`. */
export const SQLITE_TABLE_DDL: RecordsTableDdl = {
  create: [
    `CREATE TABLE "idempotency_records" (${COLUMNS.join(', ')})`,
    `CREATE INDEX "IDX_idempotency_records_expires_at" ON "idempotency_records" ("expires_at")`,
  ],
  drop: [`DROP TABLE "idempotency_records"`], // its index goes with it
};
