import mysql, { type RowDataPacket } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { CreateIdempotencyRecords, IDEMPOTENCY_RECORDS_TABLE } from '../../../lib/index.js';
import { createMysqlDatabase, MYSQL_LABEL, type MysqlTestDatabase } from '../../support/mariadb.js';
import type { SharedStore, StoredRecordView } from './shared-store.js';

const TABLE = `\`${IDEMPOTENCY_RECORDS_TABLE}\``;
/** The database's clock, as the MySQL dialect reads it: DATETIME columns hold UTC. */
const NOW = 'UTC_TIMESTAMP(6)';
/** Milliseconds from now until the end of the record: of its lease while processing, of its ttl once completed. */
const ENDS_IN_MS = `TIMESTAMPDIFF(MICROSECOND, ${NOW}, IF(status = 'processing', locked_until, expires_at)) / 1000`;

/** Scope, principal and key as the table's VARBINARY columns hold them: their UTF-8 bytes. */
const identity = (scope: string, principal: string, key: string) => [scope, principal, key].map((text) => Buffer.from(text, 'utf8'));

interface RecordRow extends RowDataPacket {
  status: StoredRecordView['state'];
  token: string;
  response_body: Buffer | null;
  ends_in_ms: string | number;
}

/**
 * The tests' view of the records a `TypeOrmIdempotencyStore` keeps on
 * MariaDB/MySQL: a database of its own on the server at `MYSQL_URL`, its
 * table made by the library's migration (as a deployment would, before the
 * instances start), read on a small mysql2 pool of the test's own.
 */
export class MariadbRecords implements SharedStore {
  readonly label = `one MariaDB/MySQL database at ${MYSQL_LABEL}`;
  readonly workerEnv: Record<string, string>;

  private constructor(
    private readonly database: MysqlTestDatabase,
    private readonly pool: mysql.Pool,
    private readonly scope = 'effects',
  ) {
    this.workerEnv = { STORE: 'mysql', MYSQL_URL: database.url };
  }

  /** Creates the database and its table (`CreateIdempotencyRecords`); `close()` drops it. */
  static async open(): Promise<MariadbRecords> {
    const database = await createMysqlDatabase();
    try {
      const migrations = new DataSource({ type: 'mysql', url: database.url, migrations: [CreateIdempotencyRecords] });
      await migrations.initialize();
      try {
        await migrations.runMigrations();
      } finally {
        await migrations.destroy();
      }
      return new MariadbRecords(database, mysql.createPool({ uri: database.url, connectionLimit: 2 }));
    } catch (error) {
      await database.drop();
      throw error;
    }
  }

  /** The record of `key` (of `principal`, in this scope), or `undefined` when the table holds none. */
  async record(key: string, principal = ''): Promise<StoredRecordView | undefined> {
    const [[row]] = await this.pool.query<RecordRow[]>(
      `SELECT status, token, response_body, ${ENDS_IN_MS} AS ends_in_ms
       FROM ${TABLE} WHERE scope = ? AND principal = ? AND \`key\` = ?`,
      identity(this.scope, principal, key),
    );
    if (!row) return undefined;
    return { state: row.status, token: row.token, body: row.response_body, endsInMs: Number(row.ends_in_ms) };
  }

  /**
   * Ends the lease of the `processing` record of `key` now, as if its owner had
   * stalled past `lockTimeout`: the next claim takes it over.
   * @returns whether a processing record was there to end.
   */
  async endLease(key: string, principal = ''): Promise<boolean> {
    const [result] = await this.pool.query<mysql.ResultSetHeader>(
      `UPDATE ${TABLE}
       SET locked_until = ${NOW} - INTERVAL 1000 MICROSECOND, expires_at = ${NOW} - INTERVAL 1000 MICROSECOND
       WHERE scope = ? AND principal = ? AND \`key\` = ? AND status = 'processing'`,
      identity(this.scope, principal, key),
    );
    return result.affectedRows === 1;
  }

  /**
   * Every record (any scope, any principal) still `processing`, with what is
   * left of its lease. A record of one of `keys` (anonymous, this scope) is
   * named by that key, any other by `scope/principal/key`.
   */
  async processing(keys: string[] = []): Promise<{ record: string; endsInMs: number }[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT scope, principal, \`key\`, ${ENDS_IN_MS} AS ends_in_ms
       FROM ${TABLE} WHERE status = 'processing' ORDER BY scope, principal, \`key\``,
    );
    const named = new Set(keys);
    return rows.map((row) => {
      const [scope, principal, key] = [row.scope, row.principal, row.key].map((bytes: Buffer) => bytes.toString('utf8'));
      return {
        record: scope === this.scope && principal === '' && named.has(key) ? key : `${scope}/${principal}/${key}`,
        endsInMs: Number(row.ends_in_ms),
      };
    });
  }

  /** Closes the pool and drops the database. */
  async close(): Promise<void> {
    try {
      await this.pool.end();
    } finally {
      await this.database.drop();
    }
  }
}
