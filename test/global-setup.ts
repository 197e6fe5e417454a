// Jest loads global setup through require() with no moduleNameMapper, so this
// import names the .ts file (allowed by rewriteRelativeImportExtensions).
import { startPostgres, type PostgresServer } from '../tools/postgres-server.ts';

declare global {
  // Set by global-setup.ts, read by global-teardown.ts (same Jest process).
  var __testPostgres: PostgresServer | undefined;
}

/**
 * Jest global setup: unless `DATABASE_URL` is set, starts one throwaway
 * PostgreSQL server for the whole run and exports its URL as `DATABASE_URL`
 * (test workers inherit it). Specs create their own database on it with
 * `createTestDatabase()`.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const started = Date.now();
  const server = await startPostgres();
  globalThis.__testPostgres = server;
  process.env.DATABASE_URL = server.url;
  if (process.env.DEBUG_POSTGRES) console.log(`\nPostgreSQL at ${server.url} (started in ${Date.now() - started} ms)`);
}
