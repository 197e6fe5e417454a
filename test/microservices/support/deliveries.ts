import type { AnyServer } from './transports.js';

/**
 * A barrier for the tests: counts the deliveries the server is done with
 * (Nest's processing-end hook), whether the handler ran, was skipped (a
 * duplicate event) or was refused. Events and requests alike.
 */
export class Deliveries {
  private settled = 0;
  private readonly watchers: { count: number; resolve: () => void }[] = [];

  constructor(server: AnyServer) {
    server.setOnProcessingEndHook(() => {
      this.settled++;
      for (const watcher of this.watchers.filter((w) => w.count <= this.settled)) watcher.resolve();
    });
  }

  get count(): number {
    return this.settled;
  }

  /** Resolves once `count` deliveries have settled since the server started. */
  reached(count: number): Promise<void> {
    return new Promise((resolve) => (this.settled >= count ? resolve() : this.watchers.push({ count, resolve })));
  }
}
