import type { RecordWatch } from '../interfaces/idempotency-store.interface.js';

interface Watcher {
  /** Announcements heard and not yet consumed by `next()`. */
  unheard: number;
  wake?: () => void;
}

/**
 * The waiters of one process, by record: what a store's wake-up channel
 * (in-process events, PostgreSQL `NOTIFY`, Redis pub/sub) delivers to. Each
 * record name (any string that identifies the record) has its own watchers;
 * an announcement wakes every one of them.
 */
export class RecordWatchers {
  private readonly byRecord = new Map<string, Set<Watcher>>();

  /** How many records have watchers (a channel may stop listening at 0). */
  get size(): number {
    return this.byRecord.size;
  }

  /** Opens a watch of `record`, listening from now on. */
  open(record: string): RecordWatch {
    const watcher: Watcher = { unheard: 0 };
    let watchers = this.byRecord.get(record);
    if (!watchers) this.byRecord.set(record, (watchers = new Set()));
    watchers.add(watcher);
    return {
      next: () => {
        if (watcher.unheard > 0) {
          watcher.unheard = 0;
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => (watcher.wake = resolve));
      },
      close: () => {
        watcher.wake = undefined;
        watchers.delete(watcher);
        if (watchers.size === 0 && this.byRecord.get(record) === watchers) this.byRecord.delete(record);
      },
    };
  }

  /** Wakes every watcher of `record`. */
  announce(record: string): void {
    for (const watcher of this.byRecord.get(record) ?? []) wake(watcher);
  }

  /** Wakes every watcher, e.g. when the channel broke and announcements may have been lost. */
  announceAll(): void {
    for (const watchers of this.byRecord.values()) for (const watcher of watchers) wake(watcher);
  }
}

function wake(watcher: Watcher): void {
  const wake = watcher.wake;
  if (wake) {
    watcher.wake = undefined;
    wake();
  } else {
    watcher.unheard++;
  }
}
