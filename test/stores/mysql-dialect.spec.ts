import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { IdempotencyConfigurationError, IdempotencyStoreConnectionError } from '../../lib/index.js';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { claimOf, ID, MysqlStores, openMysqlDataSource, RESPONSE } from '../support/mysql-stores.js';
import { startMysqlWireCounter, type MysqlWireCounter } from '../support/mysql-wire-counter.js';

const describeWithMysql = await mysqlDescribe();

describeWithMysql('MySQL dialect on MariaDB', () => {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;
  const stores = new MysqlStores();

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = await openMysqlDataSource(database.url, 'mariadb', { synchronize: true });
  });

  afterAll(async () => {
    await stores.closeAll();
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query('TRUNCATE idempotency_records');
  });

  describe('verify()', () => {
    it('resolves when the table exists, also schema-qualified', async () => {
      await expect(stores.create(dataSource).verify()).resolves.toBeUndefined();
      await expect(stores.create(dataSource, { table: `${database.name}.idempotency_records` }).verify()).resolves.toBeUndefined();
    });

    it.each([
      ['in the current database', 'missing_records'],
      ['in another database', 'no_such_database_xyz.idempotency_records'],
    ])('names the migration and MysqlIdempotencyRecord when the table is missing %s', async (_case, table) => {
      const verified = stores.create(dataSource, { table }).verify();
      await expect(verified).rejects.toThrow(IdempotencyConfigurationError);
      await expect(verified).rejects.toThrow(/CreateIdempotencyRecords migration.*entities: \[MysqlIdempotencyRecord\]/);
    });

    it("accepts type 'mysql' with synchronize on a MariaDB server (as many apps configure it)", async () => {
      const mysqlTyped = await openMysqlDataSource(database.url, 'mysql', { synchronize: true });
      try {
        await expect(stores.create(mysqlTyped).verify()).resolves.toBeUndefined();
      } finally {
        await stores.closeAll();
        await mysqlTyped.destroy();
      }
    });
  });

  describe('record identity', () => {
    let wire: MysqlWireCounter;
    let proxied: DataSource;

    beforeAll(async () => {
      wire = await startMysqlWireCounter(database.url);
      proxied = await openMysqlDataSource(wire.url, 'mariadb');
    });

    afterAll(async () => {
      await stores.closeAll();
      await proxied?.destroy();
      await wire?.close();
    });

    it.each([
      ['a scope of 1025 bytes', { ...ID, scope: 's'.repeat(1025) }, /scope is 1025 bytes/],
      ['a principal of 1026 bytes of UTF-8 (513 characters)', { ...ID, principal: '\u00e9'.repeat(513) }, /principal is 1026 bytes/],
    ])('refuses %s before any SQL, as a configuration error', async (_case, id, message) => {
      const store = stores.create(proxied);
      await store.verify();
      wire.reset();
      const claimed = store.claim(claimOf(id));
      await expect(claimed).rejects.toThrow(IdempotencyConfigurationError);
      await expect(claimed).rejects.toThrow(message);
      await expect(store.complete(id, randomUUID(), RESPONSE, 1_000)).rejects.toThrow(IdempotencyConfigurationError);
      expect(wire.roundTrips).toEqual([]);
    });

    it('refuses a fingerprint longer than its column before any SQL', async () => {
      const store = stores.create(proxied);
      await store.verify();
      wire.reset();
      await expect(store.claim(claimOf(ID, { fingerprint: 'f'.repeat(65) }))).rejects.toThrow(/fingerprint has 65 characters/);
      expect(wire.roundTrips).toEqual([]);
    });

    it('stores the longest identity the columns hold (1024 + 1024 bytes, a key of 255 three-byte characters)', async () => {
      const id = { scope: 's'.repeat(1024), principal: '\u00e9'.repeat(512), key: '\u65e5'.repeat(255) };
      const store = stores.create(dataSource);
      const claim = claimOf(id);
      await expect(store.claim(claim)).resolves.toEqual({ claimed: true });
      await expect(store.complete(id, claim.token, RESPONSE, 60_000)).resolves.toBe(true);
      const [row] = await dataSource.query('SELECT LENGTH(scope) AS s, LENGTH(principal) AS p, LENGTH(`key`) AS k FROM idempotency_records');
      expect([row.s, row.p, row.k].map(Number)).toEqual([1024, 1024, 765]);
    });

    it('keeps "a" and "a " apart, and "A": bytes, no PAD SPACE, no collation', async () => {
      const store = stores.create(dataSource);
      for (const key of ['a', 'a ', 'A', 'a  ']) {
        await expect(store.claim(claimOf({ ...ID, key }))).resolves.toEqual({ claimed: true });
      }
    });

    it('reads the entity back as strings', async () => {
      const store = stores.create(dataSource);
      await store.claim(claimOf({ ...ID, key: 'cl\u00e9 \u{1f511}' }));
      const [record] = await dataSource.getRepository('MysqlIdempotencyRecord').find();
      expect(record).toMatchObject({ scope: ID.scope, principal: ID.principal, key: 'cl\u00e9 \u{1f511}', status: 'processing' });
    });
  });

  describe('lease lane', () => {
    it('renews, completes and releases while every connection of the DataSource is taken', async () => {
      const single = await openMysqlDataSource(database.url, 'mariadb', { poolSize: 1 });
      const store = stores.create(single);
      const holder = single.createQueryRunner();
      try {
        const claim = claimOf(ID, { lockTimeout: 1_000 });
        const other = claimOf({ ...ID, key: 'other' });
        await store.claim(claim);
        await store.claim(other);
        await holder.connect(); // the pool's only connection, held in a transaction
        await holder.startTransaction();
        await holder.query('SELECT 1');
        await expect(store.extendLease(ID, claim.token, 60_000)).resolves.toBe(true);
        await expect(store.extendLease(ID, claim.token, 60_000)).resolves.toBe(true); // same values: still counted (FOUND_ROWS)
        await expect(store.complete(ID, claim.token, RESPONSE, 60_000)).resolves.toBe(true);
        await expect(store.release({ ...ID, key: 'other' }, other.token)).resolves.toBe(true);
        await holder.rollbackTransaction();
      } finally {
        await holder.release();
        await stores.closeAll();
        await single.destroy();
      }
    });
  });

  describe('an unreachable server', () => {
    it('gives IdempotencyStoreConnectionError for every operation once the port is closed', async () => {
      const wire = await startMysqlWireCounter(database.url);
      const proxied = await openMysqlDataSource(wire.url, 'mariadb', { connectTimeout: 2_000 });
      try {
        const store = stores.create(proxied, withoutInsertReturning());
        await expect(store.claim(claimOf({ ...ID, key: 'before' }))).resolves.toEqual({ claimed: true });
        await wire.close(); // closes the port and every connection through it
        for (const operation of [
          () => store.claim(claimOf(ID)),
          () => store.claim(claimOf(ID)),
          () => store.complete(ID, randomUUID(), RESPONSE, 1_000),
          () => store.release(ID, randomUUID()),
          () => store.extendLease(ID, randomUUID(), 1_000),
          () => store.purgeExpired(10),
          () => store.verify(),
        ]) {
          await expect(operation()).rejects.toThrow(IdempotencyStoreConnectionError);
        }
      } finally {
        await stores.closeAll();
        await proxied.destroy().catch(() => undefined);
      }
    });

    it('passes a permanent error as is: a table that is not there', async () => {
      const store = stores.create(dataSource, { table: 'missing_records' });
      const claimed = store.claim(claimOf(ID));
      await expect(claimed).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' });
      await expect(claimed).rejects.not.toThrow(IdempotencyStoreConnectionError);
    });
  });

  it('purges in batches, oldest expiry first', async () => {
    const store = stores.create(dataSource);
    for (const key of ['k1', 'k2', 'k3']) await store.claim(claimOf({ ...ID, key }, { lockTimeout: 0 }));
    await dataSource.query("UPDATE idempotency_records SET expires_at = expires_at - INTERVAL 1 HOUR WHERE `key` = 'k3'");
    await expect(store.purgeExpired(1)).resolves.toBe(1);
    const keys = await dataSource.query('SELECT CAST(`key` AS CHAR) AS k FROM idempotency_records ORDER BY k');
    expect(keys).toEqual([{ k: 'k1' }, { k: 'k2' }]);
  });
});
