import { describe } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

/** The MariaDB (or MySQL) server of the tests: `MYSQL_URL`, else root on 127.0.0.1:3306. */
export const MYSQL_URL = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306';

/** {@link MYSQL_URL} without its password, for test names and messages. */
export const MYSQL_LABEL = MYSQL_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** A uniquely named database created by {@link createMysqlDatabase}. */
export interface MysqlTestDatabase {
  readonly name: string;
  /** Connection URL of the database (the server's URL with this database). */
  readonly url: string;
  /** Drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * The `describe` of the suites that need MariaDB/MySQL. The Jest config
 * leaves those suites out (with a "not run" line) when the server is
 * unreachable and `CI` is unset, so here an unreachable server fails the
 * suite: under CI, or when a suite is run by path on purpose.
 */
export async function mysqlDescribe(): Promise<typeof describe> {
  try {
    await runAdminQuery('SELECT 1');
    return describe;
  } catch (error) {
    throw new Error(`no MariaDB/MySQL server at ${MYSQL_LABEL} (set MYSQL_URL or start mariadb): ${(error as Error).message}`, { cause: error });
  }
}

/** Creates a new, empty database `test_<pid>_<time>_<random>`; `drop()` it in `afterAll`. */
export async function createMysqlDatabase(prefix = 'test'): Promise<MysqlTestDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await runAdminQuery(`CREATE DATABASE \`${name}\``);
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return { name, url: url.toString(), drop: () => (dropped ??= runAdminQuery(`DROP DATABASE IF EXISTS \`${name}\``)) };
}

async function runAdminQuery(sql: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2_000 });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}
