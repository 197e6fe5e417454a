import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AdapterName } from '../../support/app.js';
import type { ClsAppOptions } from '../app/cls-app.module.js';

const ENTRY = fileURLToPath(new URL('../app/main.ts', import.meta.url));
// The swc module hooks of the multi-instance workers, which run this repository's TypeScript under plain Node.
const REGISTER_TS = new URL('../../multi-instance/support/register-ts.mjs', import.meta.url).href;
const START_TIMEOUT_MS = 30_000;

/** The nestjs-cls test app (app/main.ts) in a child process, listening at {@link url}. */
export class ClsAppProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** `http://127.0.0.1:<port>`, for supertest. */
    readonly url: string,
    private readonly output: string[],
  ) {}

  /** Resolves once the app has written `text` to stdout or stderr (its logger's errors and warnings). */
  async logged(text: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.join('').includes(text)) {
      if (Date.now() > deadline) throw new Error(`the app did not log "${text}" within ${timeoutMs} ms; it logged:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Starts the app on `adapter` against the database at `databaseUrl`; resolves once it listens. */
  static async start(
    adapter: AdapterName,
    databaseUrl: string,
    options: ClsAppOptions = { mount: 'middleware' },
  ): Promise<ClsAppProcess> {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', REGISTER_TS, '--enable-source-maps', '--disable-warning=ExperimentalWarning'],
      env: { ...process.env, DATABASE_URL: databaseUrl, ADAPTER: adapter, CLS_APP: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      if (process.env.TEST_LOG) process.stderr.write(chunk);
      output.push(chunk.toString());
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const port = await new Promise<number>((resolve, reject) => {
      const fail = (reason: string) => {
        child.kill('SIGKILL');
        reject(new Error(`the nestjs-cls app did not start: ${reason}\n${output.join('')}`));
      };
      const timer = setTimeout(() => fail(`no "ready" within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message?.type !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(message.port!);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(`exited with ${signal ?? code}`);
      });
    });
    return new ClsAppProcess(child, `http://127.0.0.1:${port}`, output);
  }

  /** Ends the process and resolves once it exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
