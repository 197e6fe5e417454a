import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { claimOf, ID, MysqlStores, mysql2WithSessionTimeZone, openMysqlDataSource, RESPONSE } from '../support/mysql-stores.js';

const describeWithMysql = await mysqlDescribe();

/**
 * Two DataSources whose sessions are 12 hours apart share the table: a
 * statement that read the session's clock (NOW(), CURRENT_TIMESTAMP)
 * would make one side see the other's leases hours early or late.
 */
describeWithMysql('MySQL dialect on MariaDB: session time zones', () => {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;
  let east: DataSource;
  let west: DataSource;

  const stores = new MysqlStores();

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = await openMysqlDataSource(database.url, 'mariadb', { synchronize: true });
    east = await openMysqlDataSource(database.url, 'mariadb', { timezone: '+05:00', driver: mysql2WithSessionTimeZone('+05:00') });
    west = await openMysqlDataSource(database.url, 'mariadb', { timezone: '-07:00', driver: mysql2WithSessionTimeZone('-07:00') });
  });

  afterAll(async () => {
    await stores.closeAll();
    await east?.destroy();
    await west?.destroy();
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query('TRUNCATE idempotency_records');
  });

  it('runs the sessions in their own time zones', async () => {
    const offset = (source: DataSource) => source.query('SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS minutes');
    await expect(offset(east)).resolves.toEqual([{ minutes: '300' }]);
    await expect(offset(west)).resolves.toEqual([{ minutes: '-420' }]);
  });

  it.each([
    ['INSERT ... RETURNING', {}],
    ['upsert then SELECT', withoutInsertReturning()],
  ])('agrees on leases and expiry across them (%s)', async (_case, options) => {
    const eastStore = stores.create(east, options);
    const westStore = stores.create(west, options);

    const lapsed = { ...ID, key: 'lapsed' };
    await expect(eastStore.claim(claimOf(lapsed, { lockTimeout: 0 }))).resolves.toEqual({ claimed: true });
    await expect(westStore.claim(claimOf(lapsed))).resolves.toEqual({ claimed: true });

    const leased = { ...ID, key: 'leased' };
    const lease = claimOf(leased, { lockTimeout: 60_000 });
    await eastStore.claim(lease);
    const refused = await westStore.claim(claimOf(leased));
    expect(refused.claimed).toBe(false);
    const expiresInMs = refused.claimed ? 0 : refused.existing!.expiresInMs;
    expect(expiresInMs).toBeGreaterThan(50_000);
    expect(expiresInMs).toBeLessThanOrEqual(60_000);

    await expect(westStore.complete(leased, lease.token, RESPONSE, 0)).resolves.toBe(true);
    await expect(eastStore.claim(claimOf(leased))).resolves.toEqual({ claimed: true });
  });

  it('keeps UTC in the DATETIME columns', async () => {
    const store = stores.create(east);
    const claim = claimOf(ID, { lockTimeout: 60_000 });
    await store.claim(claim);
    await store.complete(ID, claim.token, RESPONSE, 120_000);
    const [row] = await dataSource.query(
      `SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), created_at) AS created, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), completed_at) AS completed,
              TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expires_at) AS expires FROM idempotency_records`,
    );
    expect(Math.abs(Number(row.created))).toBeLessThanOrEqual(5);
    expect(Math.abs(Number(row.completed))).toBeLessThanOrEqual(5);
    expect(Number(row.expires)).toBeGreaterThan(110);
    expect(Number(row.expires)).toBeLessThanOrEqual(120);
  });
});
