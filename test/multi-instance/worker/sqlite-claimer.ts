// One process of the SQLite storm (sqlite-storm.e2e.spec.ts): opens the shared
// database file with its own connection, then claims every key it is told to
// at once, each time the test says go, and reports what it won.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TypeOrmIdempotencyStore } from '../../../lib/stores/typeorm/typeorm-idempotency.store.js';

/** From the test: claim `keys` now, each with a lease of `lockTimeout` ms. */
export interface SqliteClaimOrder {
  type: 'claim';
  keys: string[];
  lockTimeout: number;
}

/** To the test: the process is connected (`ready`), or what one order gave (`claimed`). */
export type SqliteClaimerMessage =
  | { type: 'ready' }
  | { type: 'claimed'; won: string[]; lost: { key: string; status: string | undefined; fingerprint: string | undefined }[] }
  | { type: 'failed'; error: string };

const name = process.env.WORKER_NAME!;
const dataSource = await new DataSource({ type: 'better-sqlite3', database: process.env.SQLITE_FILE!, enableWAL: true }).initialize();
const store = new TypeOrmIdempotencyStore(dataSource);
const send = (message: SqliteClaimerMessage) => process.send!(message);

process.on('message', async (order: SqliteClaimOrder | { type: 'exit' }) => {
  if (order.type === 'exit') {
    await dataSource.destroy();
    process.exit(0);
  }
  try {
    const results = await Promise.all(
      order.keys.map(async (key) => ({
        key,
        result: await store.claim({
          scope: 'storm',
          principal: '',
          key,
          fingerprint: name,
          token: randomUUID(),
          lockTimeout: order.lockTimeout,
        }),
      })),
    );
    send({
      type: 'claimed',
      won: results.filter(({ result }) => result.claimed).map(({ key }) => key),
      lost: results.flatMap(({ key, result }) =>
        result.claimed ? [] : [{ key, status: result.existing?.status, fingerprint: result.existing?.fingerprint }],
      ),
    });
  } catch (error) {
    send({ type: 'failed', error: String((error as Error).stack ?? error) });
  }
});
send({ type: 'ready' });
