import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database of its own for one spec file, from {@link createTestDatabase}. */
export interface TestDatabase {
  /** Name of the database, e.g. `test_1234_lq2x9k_3f9a1c2e`. */
  readonly name: string;
  /** Connection URL of the database (the server's `DATABASE_URL` with this database). */
  readonly url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * Creates a new, uniquely named, empty database on the server at
 * `process.env.DATABASE_URL` (set by the Jest global setup), so that each spec
 * file runs against a database of its own. Call `drop()` in `afterAll`.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set (the Jest global setup sets it)');
  const name = `test_${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await runAdminQuery(serverUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop: () => (dropped ??= runAdminQuery(serverUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)),
  };
}

async function runAdminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
