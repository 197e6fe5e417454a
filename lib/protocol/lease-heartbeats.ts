/** Something with a lease to renew (see {@link LeaseHeartbeats}). */
export interface Beating {
  /** Renews the lease if it is due at `now` (ms since the epoch). */
  beat(now: number): void;
}

/** How often the shared timer looks for leases due: a fraction of the shortest heartbeat period (333 ms). */
const TICK_MS = 100;

/**
 * One timer for every live lease of the process, instead of one per lease:
 * while any lease lives it ticks every {@link TICK_MS} ms and lets each
 * renew itself when due; it stops at the first tick with none (so a process
 * at rest wakes no more). Unref'd: it never keeps a process alive.
 */
class LeaseHeartbeats {
  private readonly live = new Set<Beating>();
  private timer?: NodeJS.Timeout;

  add(lease: Beating): void {
    this.live.add(lease);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  delete(lease: Beating): void {
    this.live.delete(lease);
  }

  private tick(): void {
    if (this.live.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    for (const lease of this.live) lease.beat(now);
  }
}

/** The heartbeat timer of the process. */
export const heartbeats = new LeaseHeartbeats();
