import { afterAll, beforeAll } from '@jest/globals';
import { SharedStoreHarness } from './shared-store-harness.js';
import type { SharedStore } from './shared-store.js';
import { describeSharedStoreLeases } from './shared-store-leases.js';
import { describeSharedStoreStorms } from './shared-store-storms.js';

/**
 * DESIGN.md §8: a shared store passes the multi-process storm. The storms
 * (RELIABILITY.md 1, 2), the slow handler (4), fencing (5) and the crashed
 * instance (3) over 3 processes (`INSTANCES`) whose idempotency store is the
 * one `openStore` opens; side effects are counted in PostgreSQL. Call it
 * inside the `describe` of the store's spec file.
 */
export function describeSharedStore(openStore: () => Promise<SharedStore>): void {
  let harness: SharedStoreHarness | undefined;

  beforeAll(async () => {
    harness = await SharedStoreHarness.open(openStore);
  }, 60_000);

  afterAll(async () => {
    await harness?.close();
  });

  const current = () => {
    if (!harness) throw new Error('the shared store did not open (see the error of beforeAll)');
    return harness;
  };
  describeSharedStoreStorms(current);
  describeSharedStoreLeases(current);
}
