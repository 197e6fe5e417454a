import { createScratchDatabase, type ScratchDatabase } from '../../tools/scratch-database.js';

/** A database of its own for one spec file, from {@link createTestDatabase}. */
export type TestDatabase = ScratchDatabase;

/**
 * Creates a new, uniquely named, empty database on the server at
 * `process.env.DATABASE_URL` (set by the Jest global setup), so that each spec
 * file runs against a database of its own. Call `drop()` in `afterAll`.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set (the Jest global setup sets it)');
  return createScratchDatabase(serverUrl, 'test');
}
