import type { RecordsTableDdl } from '../sql-records.js';

/** PLACEHOLDER. */
export const MYSQL_TABLE_DDL: RecordsTableDdl = { create: [], drop: [] };
