import type { RecordsTableDdl } from '../sql-records.js';

/**
 * The `idempotency_records` table on MySQL 8 / MariaDB, as `synchronize`
 * builds it from `MysqlIdempotencyRecord` (the statement TypeORM sends, with
 * the same column order).
 */
export const MYSQL_TABLE_DDL: RecordsTableDdl = {
  create: [
    `CREATE TABLE \`idempotency_records\` (
        \`scope\` varbinary(1024) NOT NULL,
        \`principal\` varbinary(1024) NOT NULL,
        \`key\` varbinary(1024) NOT NULL,
        \`fingerprint\` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        \`status\` varchar(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        \`token\` char(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        \`locked_until\` datetime(3) NULL,
        \`response_status\` smallint NULL,
        \`response_headers\` longtext NULL,
        \`response_body\` longblob NULL,
        \`created_at\` datetime(3) NOT NULL,
        \`completed_at\` datetime(3) NULL,
        \`expires_at\` datetime(3) NOT NULL,
        INDEX \`IDX_idempotency_records_expires_at\` (\`expires_at\`),
        PRIMARY KEY (\`scope\`, \`principal\`, \`key\`)
      ) ENGINE=InnoDB`,
  ],
  drop: ['DROP TABLE `idempotency_records`'],
};
