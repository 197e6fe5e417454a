import { IDEMPOTENCY_RECORDS_TABLE } from '../../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { Cluster } from './cluster.js';
import { SharedDatabase } from './shared-database.js';
import type { SharedStore } from './shared-store.js';

/** Instances of every cluster of the suite. */
export const INSTANCES = 3;

/**
 * What a suite of a shared store runs on: the store under test, and the
 * PostgreSQL database where the workers' handlers write their side effects
 * (whatever the store, so effects are counted alike).
 */
export class SharedStoreHarness {
  private constructor(
    readonly store: SharedStore,
    readonly shared: SharedDatabase,
    private readonly database: TestDatabase,
  ) {}

  static async open(openStore: () => Promise<SharedStore>): Promise<SharedStoreHarness> {
    const database = await createTestDatabase();
    let shared: SharedDatabase | undefined;
    try {
      shared = await SharedDatabase.prepare(database.url); // side_effects (and an idempotency table left empty)
      return new SharedStoreHarness(await openStore(), shared, database);
    } catch (error) {
      await shared?.close();
      await database.drop();
      throw error;
    }
  }

  /** {@link INSTANCES} instances on the store under test, with the module's `lockTimeout`. */
  startCluster(lockTimeout: number): Promise<Cluster> {
    return Cluster.start(INSTANCES, this.database.url, lockTimeout, this.store.workerEnv);
  }

  /** Records in PostgreSQL's idempotency table: none, since every instance uses the store under test. */
  async postgresRecords(): Promise<number> {
    const [{ n }] = await this.shared.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${IDEMPOTENCY_RECORDS_TABLE}`);
    return n;
  }

  async close(): Promise<void> {
    try {
      await this.store.close();
    } finally {
      await this.shared.close();
      await this.database.drop();
    }
  }
}
