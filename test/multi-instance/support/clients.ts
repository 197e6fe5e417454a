import type { Cluster } from './cluster.js';
import type { HttpResult } from './http.js';

/** One request of a client: when it left and came back, and what came back. */
export interface Attempt {
  key: string;
  worker: string;
  startedAt: number;
  endedAt?: number;
  /** The answer, or `undefined` when no HTTP answer came. */
  result?: HttpResult;
  settled: Promise<void>;
}

/**
 * Clients that each take the next key and send it to random instances until
 * one answers 2xx, waiting `backoffMs` after a 409, 503, 5xx or network error,
 * as well-behaved clients (shortened Retry-After) would. Keys are independent,
 * so the traffic keeps flowing through an outage.
 */
export class Clients {
  readonly attempts: Attempt[] = [];
  /** The 2xx answer each resolved key got. */
  readonly resolved = new Map<string, HttpResult>();
  readonly done: Promise<void>;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    keys: string[],
    concurrency: number,
    private readonly backoffMs: number,
  ) {
    const queue = [...keys];
    this.done = Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let key = queue.shift(); key !== undefined && !this.stopped; key = queue.shift()) await this.resolve(key);
      }),
    ).then(() => undefined);
  }

  /** Attempts that left before `time`, once all have come back. */
  async startedBefore(time: number): Promise<Attempt[]> {
    const attempts = this.attempts.filter((attempt) => attempt.startedAt < time);
    await Promise.all(attempts.map((attempt) => attempt.settled));
    return attempts;
  }

  /** Stops after the requests in flight (for clean-up after a failure). */
  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  private async resolve(key: string): Promise<void> {
    while (!this.stopped) {
      const worker = this.cluster.any();
      const attempt = { key, worker: worker.name, startedAt: Date.now() } as Attempt;
      const request = worker.request({ path: '/effects', key, headers: { 'X-Delay-Ms': '5' } });
      attempt.settled = request.then(
        (result) => void Object.assign(attempt, { result, endedAt: Date.now() }),
        () => void (attempt.endedAt = Date.now()),
      );
      this.attempts.push(attempt);
      await attempt.settled;
      if (attempt.result && attempt.result.status < 300) {
        this.resolved.set(key, attempt.result);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
    }
  }
}
