import { fork, type ChildProcess } from 'node:child_process';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { send, type HttpResult, type WorkerRequest } from './http.js';
import type { LogMessage, ReleaseMessage, WorkerEnv, WorkerMessage, WorkerStats } from './messages.js';

const ENTRY = fileURLToPath(new URL('../worker/main.ts', import.meta.url));
const REGISTER_TS = new URL('./register-ts.mjs', import.meta.url).href;
const START_TIMEOUT_MS = 30_000;

/**
 * One app instance in a child process (worker/main.ts), with a keep-alive
 * HTTP agent of its own, its gate under the test's control, and the warnings
 * and errors it logged.
 */
export class WorkerProcess {
  /** Warnings and errors the app logged, in order. */
  readonly logs: LogMessage[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  private readonly arrivals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  /** Resolves how the process ended: its exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  private expectExit = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly output: string[],
  ) {
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'arrived') this.arrival(message.key).resolve();
      if (message.type === 'log') this.logs.push(message);
    });
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode!);
      else child.once('exit', (code, signal) => resolve(signal ?? code!));
    });
    child.once('exit', (code, signal) => {
      // An instance that dies on its own is a finding: make it loud in the test's output.
      if (!this.expectExit) console.error(`worker ${name} exited with ${signal ?? code}:\n${output.join('')}`);
    });
  }

  /** Starts an instance and resolves once it listens. */
  static async start(
    name: string,
    env: Omit<WorkerEnv, 'WORKER_NAME'> & Record<string, string>,
  ): Promise<WorkerProcess> {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', REGISTER_TS, '--enable-source-maps'],
      env: { ...process.env, ...env, WORKER_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      if (process.env.TEST_LOG) process.stderr.write(chunk);
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);

    const port = await new Promise<number>((resolve, reject) => {
      const fail = (reason: string) => {
        child.kill('SIGKILL');
        reject(new Error(`worker ${name} did not start: ${reason}\n${output.join('')}`));
      };
      const timer = setTimeout(() => fail(`no "ready" within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      child.on('message', (message: WorkerMessage) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        resolve(message.port);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(`exited with ${signal ?? code}`);
      });
    });
    child.removeAllListeners('exit');
    return new WorkerProcess(name, child, port, output);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends one request; rejects only when no HTTP answer came (e.g. the process died). */
  request(request: WorkerRequest): Promise<HttpResult> {
    return send(this.agent, this.port, request);
  }

  /** Resolves once the gated handler of `key` waits at its barrier. */
  arrived(key: string): Promise<void> {
    return this.arrival(key).promise;
  }

  /** Lets the gated handler of `key` return its response, or throw. */
  release(key: string, action: ReleaseMessage['action'] = 'return'): void {
    this.child.send({ type: 'release', key, action } satisfies ReleaseMessage);
  }

  /** How often each handler ran in this process. */
  async invocations(): Promise<Record<string, number>> {
    return (await this.stats()).invocations;
  }

  /** How often the handler of `route` (`effects`, `fail-open`) ran in this process, per idempotency key. */
  async invocationsByKey(route: string): Promise<Record<string, number>> {
    return (await this.stats()).invocationsByKey[route] ?? {};
  }

  private async stats(): Promise<WorkerStats> {
    return (await this.request({ method: 'GET', path: '/stats' })).json<WorkerStats>();
  }

  /** The output the process wrote last (its last 50 chunks). */
  get lastOutput(): string {
    return this.output.join('');
  }

  /** Silences the report of an unexpected exit, for a test that expects the process to die. */
  expectToDie(): void {
    this.expectExit = true;
  }

  /** `kill -9`: the process dies at once, mid-request, like a crashed instance. */
  async crash(): Promise<void> {
    this.expectExit = true;
    this.child.kill('SIGKILL');
    await this.exited;
    this.agent.destroy();
  }

  /** Stops the process (SIGKILL: nothing of it needs to survive) and closes the sockets. */
  async stop(): Promise<void> {
    this.expectExit = true;
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
    this.agent.destroy();
  }

  private arrival(key: string) {
    let entry = this.arrivals.get(key);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.arrivals.set(key, (entry = { promise, resolve }));
    }
    return entry;
  }
}
