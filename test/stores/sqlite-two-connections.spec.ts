import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { IdempotencyStoreConnectionError, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { claimOf, ID, openSqlite, sqliteDirectory, walFileOptions } from '../support/sqlite-databases.js';

describe('TypeOrmIdempotencyStore on one better-sqlite3 file, two connections (WAL)', () => {
  let directory: Awaited<ReturnType<typeof sqliteDirectory>>;
  let first: DataSource;
  let second: DataSource;
  let stores: [TypeOrmIdempotencyStore, TypeOrmIdempotencyStore];

  beforeAll(async () => {
    directory = await sqliteDirectory();
    const file = directory.file('shared.sqlite');
    first = await openSqlite(walFileOptions(file), 'migration');
    second = await openSqlite({ ...walFileOptions(file), timeout: 0 }, 'none');
    stores = [new TypeOrmIdempotencyStore(first), new TypeOrmIdempotencyStore(second)];
  });

  afterAll(async () => {
    await first?.destroy();
    await second?.destroy();
    await directory?.remove();
  });

  afterEach(async () => {
    await first.query('DELETE FROM idempotency_records');
  });

  /**
   * Both connections claim every key, in one `Promise.all` (even keys: the
   * first connection asks first; odd keys: the second). Within one process
   * the statements still run one at a time; the multi-process storm makes
   * them collide inside SQLite.
   */
  const race = (keys: string[], fingerprintOf: (connection: number) => string) =>
    Promise.all(
      keys.flatMap((key, i) => {
        const order = i % 2 === 0 ? [0, 1] : [1, 0];
        return order.map(async (connection) => ({
          key,
          connection,
          result: await stores[connection].claim(claimOf({ ...ID, key }, 60_000, fingerprintOf(connection))),
        }));
      }),
    );

  /** Per key, which connections claimed it, and what each loser saw. */
  const outcome = (results: Awaited<ReturnType<typeof race>>) => {
    const winners = new Map<string, number[]>();
    const losersSaw = new Set<string>();
    for (const { key, connection, result } of results) {
      if (result.claimed) winners.set(key, [...(winners.get(key) ?? []), connection]);
      else {
        const ofWinner = result.existing?.fingerprint === `fp-${1 - connection}`;
        losersSaw.add(`${result.existing?.status} ${ofWinner ? 'of the winner' : result.existing?.fingerprint}`);
      }
    }
    return { winners, losersSaw };
  };

  it('claims each of 200 keys exactly once when both connections race for all of them', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `race-${i}`);
    const { winners, losersSaw } = outcome(await race(keys, (connection) => `fp-${connection}`));
    expect(keys.filter((key) => winners.get(key)?.length !== 1)).toEqual([]);
    expect(losersSaw).toEqual(new Set(['processing of the winner']));
    expect(await second.query(`SELECT count(*) AS n FROM idempotency_records WHERE status = 'processing'`)).toEqual([{ n: 200 }]);
  });

  it('takes over each of 200 expired keys exactly once when both connections race for them', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `expired-${i}`);
    for (const key of keys) await stores[0].claim(claimOf({ ...ID, key }, 0, 'fp-crashed'));
    const { winners, losersSaw } = outcome(await race(keys, (connection) => `fp-${connection}`));
    expect(keys.filter((key) => winners.get(key)?.length !== 1)).toEqual([]);
    expect(losersSaw).toEqual(new Set(['processing of the winner']));
    expect(await first.query(`SELECT count(*) AS n FROM idempotency_records WHERE fingerprint = 'fp-crashed'`)).toEqual([{ n: 0 }]);
  });

  it('passes SQLITE_BUSY through as it is once the busy timeout ran out (here 0 ms), and claims once the lock is gone', async () => {
    await first.query('BEGIN IMMEDIATE');
    try {
      const failure = stores[1].claim(claimOf(ID));
      await expect(failure).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await expect(failure).rejects.not.toBeInstanceOf(IdempotencyStoreConnectionError);
    } finally {
      await first.query('ROLLBACK');
    }
    await expect(stores[1].claim(claimOf(ID))).resolves.toEqual({ claimed: true });
  });
});
