/** A record as the suites of a shared store inspect it, whatever store holds it. */
export interface StoredRecordView {
  state: 'processing' | 'completed';
  token: string;
  /** The stored response bytes; `null` when none is stored (yet). */
  body: Buffer | null;
  /**
   * Milliseconds until the record ends, by the store's own clock: what is
   * left of the lease while processing, of the ttl once completed.
   */
  endsInMs: number;
}

/**
 * A store that the instances of a cluster share, seen from the test through
 * a connection of its own: one adapter per store (support/redis-records.ts,
 * support/mariadb-records.ts), so that one suite (shared-store-suite.ts)
 * runs on each. Records are those of the workers' `/effects` scope.
 */
export interface SharedStore {
  /** What the instances share, for test titles, e.g. `one Redis at redis://127.0.0.1:6379`. */
  readonly label: string;
  /** The environment that makes the instances of a cluster use this store (see `WorkerEnv`). */
  readonly workerEnv: Record<string, string>;
  /** The record of `key` (of `principal`), or `undefined` when the store holds none. */
  record(key: string, principal?: string): Promise<StoredRecordView | undefined>;
  /**
   * Ends the lease of the `processing` record of `key` now, as if its owner
   * had stalled past `lockTimeout`: the next claim takes the key over. A
   * completed record is left alone.
   */
  endLease(key: string): Promise<unknown>;
  /**
   * Every record of the store (any scope, any principal) still `processing`,
   * with what is left of its lease. A record of one of `keys` (anonymous, this
   * scope) is named by that key. Once traffic has ended, any is a stuck key.
   */
  processing(keys?: string[]): Promise<{ record: string; endsInMs: number }[]>;
  /** Deletes what the test made in the store (its keys, its database) and disconnects. */
  close(): Promise<void>;
}
