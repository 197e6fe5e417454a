import type { RecordsTableDdl } from '../sql-records.js';

/** PLACEHOLDER. */
export const SQLITE_TABLE_DDL: RecordsTableDdl = { create: [], drop: [] };
