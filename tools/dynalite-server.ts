import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

/** A dynalite server in a process of its own (see {@link startDynaliteProcess}). */
export interface DynaliteProcess {
  /** `http://127.0.0.1:<port>`: the DynamoDB clients' `endpoint`. */
  readonly endpoint: string;
  /** Its process, e.g. to read its CPU time. */
  readonly pid: number;
  /** dynalite's version, e.g. `4.0.0`. */
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * Starts dynalite (npm; the DynamoDB API on LevelDB in memory) in a child
 * process on a free port of 127.0.0.1, tables active at once: for the
 * multi-process tests and the benchmark, so that the server has a CPU of its
 * own rather than sharing the event loop of the process that makes the load.
 */
export async function startDynaliteProcess(): Promise<DynaliteProcess> {
  const cli = require.resolve('dynalite/cli.js');
  const { version } = JSON.parse(readFileSync(require.resolve('dynalite/package.json'), 'utf8')) as { version: string };
  const port = await freePort();
  const args = [cli, '--host', '127.0.0.1', '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await listening(child);
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    version,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/** Resolves once dynalite prints that it listens; rejects when it exits first. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with code ${code}: ${output.trim()}`)));
  });
}

/** A TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
