import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { CreateIdempotencyRecords, IDEMPOTENCY_RECORDS_TABLE } from '../lib/index.js';
import { serverCpuMs } from './server-cpu.js';

/** The MariaDB (or MySQL) server of the `mariadb-*` scenarios: `MYSQL_URL`, else root on 127.0.0.1:3306. */
export const MYSQL_URL = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306';

/** {@link MYSQL_URL} without its password, for messages and the report. */
export const MYSQL_LABEL = MYSQL_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/**
 * The orchestrator's view of the MariaDB the `mariadb-*` apps keep their
 * records in. Each app of a run gets a database of its own
 * (`nestjs_idempotency_bench_<run>_<n>`, its table made by the library's
 * migration), so runs never share a record; the run drops them when it closes.
 */
export interface BenchMariadb {
  /** `VERSION()`, e.g. `10.11.14-MariaDB-0+deb12u2`. */
  readonly serverVersion: string;
  /** Creates the database of one app; resolves its URL. */
  createDatabase(): Promise<string>;
  /** Empties the idempotency table of the database at `url`, so that a window starts from no records. */
  clear(url: string): Promise<void>;
  /**
   * CPU time so far of each server thread serving a connection to the
   * database at `url`, in ms by thread id (`information_schema.PROCESSLIST`'s
   * `TID`; see {@link serverCpuMs}); `undefined` when not readable.
   */
  serverCpuMs(url: string): Promise<Map<number, number> | undefined>;
  /** Drops every database of this run, then disconnects. */
  close(): Promise<void>;
}

/**
 * Checks that {@link MYSQL_URL} answers, then connects for the run.
 * @throws Error saying why when it does not answer (unreachable, refused, access denied...).
 */
export async function openBenchMariadb(): Promise<BenchMariadb> {
  const admin = await mysql
    .createConnection({ uri: MYSQL_URL, connectTimeout: 2_000 })
    .catch((error: unknown) => {
      const why = error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code : String(error);
      throw new Error(`no MariaDB at ${MYSQL_LABEL} (${why})`, { cause: error });
    });
  const [[{ version }]] = await admin.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
  const run = `nestjs_idempotency_bench_${randomBytes(4).toString('hex')}`;
  const databases: string[] = [];
  const urlOf = (name: string) => {
    const url = new URL(MYSQL_URL);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    serverVersion: String(version),
    async createDatabase() {
      const name = `${run}_${databases.length + 1}`;
      databases.push(name); // before any await: apps start concurrently
      await admin.query(`CREATE DATABASE \`${name}\``);
      const migrations = new DataSource({ type: 'mysql', url: urlOf(name), migrations: [CreateIdempotencyRecords] });
      await migrations.initialize();
      try {
        await migrations.runMigrations();
      } finally {
        await migrations.destroy();
      }
      return urlOf(name);
    },
    async clear(url) {
      await admin.query(`TRUNCATE TABLE \`${nameOf(url)}\`.\`${IDEMPOTENCY_RECORDS_TABLE}\``);
    },
    async serverCpuMs(url) {
      const [threads] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT TID AS tid FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [nameOf(url)],
      );
      if (threads.some(({ tid }) => !tid)) return undefined; // no thread ids: not Linux
      return serverCpuMs(threads.map(({ tid }) => Number(tid)), 'mariadbd');
    },
    async close() {
      try {
        for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await admin.end();
      }
    },
  };
}

/** The database of a `mysql://` URL. */
function nameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}
