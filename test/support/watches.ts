import type { IdempotencyStore } from '../../lib/index.js';

/** Resolves when the store has opened `count` watches (duplicates waiting for an outcome) since `reset()`. */
export class Watches {
  private opened = 0;
  private readonly pending: { count: number; resolve: () => void }[] = [];

  /** Counts the watches `store` opens. */
  constructor(store: IdempotencyStore) {
    const watch = store.watch!.bind(store);
    store.watch = async (id) => {
      const opened = await watch(id);
      this.opened++;
      for (const waiter of this.pending.filter((w) => w.count <= this.opened)) waiter.resolve();
      return opened;
    };
  }

  /** Watches opened since the last `reset()`. */
  get count(): number {
    return this.opened;
  }

  reset(): void {
    this.opened = 0;
  }

  reached(count: number): Promise<void> {
    return new Promise((resolve) => (this.opened >= count ? resolve() : this.pending.push({ count, resolve })));
  }
}
