import { WorkerProcess } from './worker-process.js';

/**
 * Several app instances sharing one database, as behind a load balancer: the
 * multi-instance harness (RELIABILITY.md, "How it is tested").
 *
 * @example
 * const cluster = await Cluster.start(3, database.url, 1_000);
 * const answer = await cluster.any().request({ path: '/effects', key: 'k1' });
 * await cluster.stop();
 */
export class Cluster {
  private constructor(readonly workers: WorkerProcess[]) {}

  /**
   * Starts `size` instances (in parallel) on `databaseUrl` with the module's
   * `lockTimeout`, and `extraEnv` in their environment.
   */
  static async start(
    size: number,
    databaseUrl: string,
    lockTimeout: number,
    extraEnv: Record<string, string> = {},
  ): Promise<Cluster> {
    const env = { ...extraEnv, DATABASE_URL: databaseUrl, LOCK_TIMEOUT_MS: String(lockTimeout) };
    const started = await Promise.allSettled(
      Array.from({ length: size }, (_, i) => WorkerProcess.start(`w${i + 1}`, env)),
    );
    const workers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map((worker) => worker.stop()));
      throw failure.reason;
    }
    return new Cluster(workers);
  }

  /** A random instance: the load balancer. */
  any(): WorkerProcess {
    return this.workers[Math.floor(Math.random() * this.workers.length)];
  }

  /** How often the handler of `route` ran per idempotency key, summed over every instance. */
  async invocationsByKey(route: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const perKey of await Promise.all(this.workers.map((worker) => worker.invocationsByKey(route)))) {
      for (const [key, n] of Object.entries(perKey)) counts.set(key, (counts.get(key) ?? 0) + n);
    }
    return counts;
  }

  /** Every warning and error logged by any instance. */
  logs(): string[] {
    return this.workers.flatMap((worker) => worker.logs.map((log) => `[${worker.name} ${log.level}] ${log.message}`));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}
