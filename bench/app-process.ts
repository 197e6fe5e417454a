import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { APP_ENV, type AppMode, type AppStats, type Command, type Reply } from './protocol.js';

const APP_MAIN = fileURLToPath(new URL('./app/main.js', import.meta.url));
// Generous: every app of a run boots at once, on a machine that may be busy with other work.
const START_TIMEOUT_MS = 120_000;

/** The app under test running in a process of its own, driven over IPC. */
export class AppProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** Port of `http://127.0.0.1:<port>/orders`. */
    readonly port: number,
  ) {}

  /**
   * Forks the app in `mode` on `databaseUrl` and waits until it listens.
   * `storeEnv` (for `library-redis`, `library-wait-redis`, `peer-redis` and `library-mariadb`): where
   * its store keeps the records (`APP_ENV.redisUrl` and `redisPrefix`, or `mysqlUrl`).
   */
  static async start(
    mode: AppMode,
    databaseUrl: string,
    poolSize: number,
    storeEnv: NodeJS.ProcessEnv = {},
  ): Promise<AppProcess> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [APP_ENV.mode]: mode,
      [APP_ENV.databaseUrl]: databaseUrl,
      [APP_ENV.poolSize]: String(poolSize),
      ...storeEnv,
    };
    const child = fork(APP_MAIN, [], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await new Promise<Reply>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the ${mode} app did not start in ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`the ${mode} app exited with code ${code}`)));
      });
      if (ready.type !== 'ready') throw new Error(`unexpected first message from the app: ${ready.type}`);
      return new AppProcess(child, ready.port);
    } catch (error) {
      child.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the app counted since it started. */
  async stats(): Promise<AppStats> {
    const reply = await this.request({ type: 'stats' });
    if (reply.type !== 'stats') throw new Error(`expected stats from the app, got "${reply.type}"`);
    const { type: _type, ...stats } = reply;
    return stats;
  }

  /** Empties the app's in-process store (`library-memory`, `peer-memory`); nothing to do in the other modes. */
  async reset(): Promise<void> {
    await this.request({ type: 'reset' });
  }

  /** Wait measurement (`library-wait*`): starts a round whose original holds until `duplicates` requests wait for it. */
  async armWaitRound(duplicates: number): Promise<void> {
    await this.request({ type: 'wait-arm', duplicates });
  }

  /** Resolves once the original of the armed round runs its handler (it holds the key). */
  async waitRoundEntered(): Promise<void> {
    await this.request({ type: 'wait-entered' });
  }

  /** Starts the app's CPU profiler. */
  async startProfile(): Promise<void> {
    await this.request({ type: 'profile-start' });
  }

  /** Stops the app's CPU profiler and writes its `.cpuprofile` to `file`. */
  async stopProfile(file: string): Promise<void> {
    await this.request({ type: 'profile-stop', file });
  }

  /** Closes the app (its pool included) and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'stop' } satisfies Command);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private request(command: Command): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`the app exited during "${command.type}"`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: Reply) => {
        this.child.off('exit', onExit);
        resolve(reply);
      });
      this.child.send(command);
    });
  }
}
