import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource, type DataSourceOptions, type Repository } from 'typeorm';
import {
  IdempotencyStoreConnectionError,
  SqliteIdempotencyRecord,
  TypeOrmIdempotencyStore,
  type IdempotencyRecordId,
  type StoredResponse,
} from '../../lib/index.js';
import { claimOf, ID, openSqlite, sqliteDirectory } from '../support/sqlite-databases.js';

const RESPONSE: StoredResponse = {
  status: 201,
  headers: { 'content-type': 'application/json', location: '/orders/1' },
  body: Buffer.from('{"id":1}'),
};

/** How TypeORM stores a `datetime` on SQLite, and how the store's statements write it. */
const SQLITE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
const NOW = `strftime('%Y-%m-%d %H:%M:%f', 'now')`;

const DRIVERS: DataSourceOptions[] = [{ type: 'better-sqlite3', database: ':memory:' }, { type: 'sqljs' }];

describe.each(DRIVERS.map((options) => [options.type, options] as const))('TypeOrmIdempotencyStore on %s', (_type, driver) => {
  let dataSource: DataSource;
  let records: Repository<SqliteIdempotencyRecord>;
  let store: TypeOrmIdempotencyStore;
  const rawTimes = async (id: IdempotencyRecordId) =>
    (
      await dataSource.query(`SELECT created_at, locked_until, completed_at, expires_at FROM idempotency_records WHERE key = ?`, [
        id.key,
      ])
    )[0];

  beforeAll(async () => {
    dataSource = await openSqlite(driver);
    records = dataSource.getRepository(SqliteIdempotencyRecord);
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM idempotency_records');
    store = new TypeOrmIdempotencyStore(dataSource);
  });

  it('reads a claimed record through the repository as strings and Dates, its lease exactly lockTimeout long', async () => {
    const claim = claimOf(ID, 45_000);
    await expect(store.claim(claim)).resolves.toEqual({ claimed: true });
    const record = await records.findOneByOrFail({ ...ID });
    expect(record).toEqual({
      ...ID,
      fingerprint: 'fp',
      status: 'processing',
      token: claim.token,
      lockedUntil: expect.any(Date),
      responseStatus: null,
      responseHeaders: null,
      responseBody: null,
      createdAt: expect.any(Date),
      completedAt: null,
      expiresAt: expect.any(Date),
    });
    expect(record.expiresAt.getTime() - record.createdAt.getTime()).toBe(45_000);
    expect(record.lockedUntil).toEqual(record.expiresAt);
  });

  it('reads a completed record through the repository: headers, bytes, and expiresAt exactly ttl after completedAt', async () => {
    const claim = claimOf(ID);
    await store.claim(claim);
    await expect(store.complete(ID, claim.token, RESPONSE, 86_400_000)).resolves.toBe(true);
    const record = await records.findOneByOrFail({ ...ID });
    expect(record).toMatchObject({ status: 'completed', responseStatus: 201, responseHeaders: RESPONSE.headers, lockedUntil: null });
    expect(record.responseBody).toBeInstanceOf(Uint8Array); // a Buffer on better-sqlite3, a Uint8Array on sql.js
    expect(Buffer.from(record.responseBody!).equals(RESPONSE.body!)).toBe(true);
    expect(record.completedAt).toBeInstanceOf(Date);
    expect(record.expiresAt.getTime() - record.completedAt!.getTime()).toBe(86_400_000);
  });

  it('writes timestamps as UTC text YYYY-MM-DD HH:MM:SS.SSS, the form TypeORM itself writes', async () => {
    const claim = claimOf(ID);
    await store.claim(claim);
    await store.complete(ID, claim.token, RESPONSE, 1_000);
    const stored = await rawTimes(ID);
    expect(stored).toEqual({
      created_at: expect.stringMatching(SQLITE_TIME),
      locked_until: null,
      completed_at: expect.stringMatching(SQLITE_TIME),
      expires_at: expect.stringMatching(SQLITE_TIME),
    });

    const written = { ...ID, key: 'by-typeorm', fingerprint: '', status: 'completed' as const, token: randomUUID() };
    await records.insert({ ...written, expiresAt: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)) });
    expect((await rawTimes(written)).expires_at).toBe('2030-01-02 03:04:05.006');
  });

  /*
   * better-sqlite3's SQLite reads the system clock itself; sql.js's (WebAssembly)
   * reads JavaScript's Date.now(), so there the database's clock is the faked one.
   */
  const clockOfSqlite = driver.type === 'sqljs' ? 'the process clock, through sql.js' : 'its own';
  it(`stamps records with SQLite's clock (${clockOfSqlite}), whatever the process's Date says (2001 here)`, async () => {
    const faked = new Date('2001-02-03T04:05:06.789Z');
    const [{ before }] = await dataSource.query(`SELECT ${NOW} AS before`);
    jest.useFakeTimers({
      now: faked,
      doNotFake: [
        ...['hrtime', 'nextTick', 'performance', 'queueMicrotask'] as const,
        ...['setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const,
      ],
    });
    let createdAt: string;
    try {
      expect(new Date().getUTCFullYear()).toBe(2001);
      await store.claim(claimOf(ID, 1_000));
      createdAt = (await rawTimes(ID)).created_at;
    } finally {
      jest.useRealTimers();
    }
    const [{ after }] = await dataSource.query(`SELECT ${NOW} AS after`);
    if (driver.type === 'sqljs') expect(createdAt).toBe('2001-02-03 04:05:06.789');
    else expect(createdAt >= before && createdAt <= after).toBe(true);
  });

  it('honours records TypeORM wrote: takes over an expired one, replays a live one with its remaining time', async () => {
    const base = {
      ...ID,
      fingerprint: 'fp',
      status: 'completed' as const,
      responseStatus: 200,
      responseHeaders: {},
      responseBody: Buffer.from('stored'),
    };
    await records.insert({ ...base, key: 'expired', token: randomUUID(), expiresAt: new Date(Date.now() - 60_000) });
    await records.insert({ ...base, key: 'live', token: randomUUID(), expiresAt: new Date(Date.now() + 60_000) });

    await expect(store.claim(claimOf({ ...ID, key: 'expired' }))).resolves.toEqual({ claimed: true });
    const replay = await store.claim(claimOf({ ...ID, key: 'live' }));
    expect(replay).toMatchObject({ claimed: false, existing: { status: 'completed', response: { status: 200, headers: {} } } });
    const { existing } = replay as { existing: { expiresInMs: number; response: { body: Buffer } } };
    expect(existing.response.body.toString()).toBe('stored');
    expect(existing.expiresInMs).toBeGreaterThan(50_000);
    expect(existing.expiresInMs).toBeLessThanOrEqual(60_000);
  });

  it('passes a missing table through as a permanent error, not an outage', async () => {
    const bare = await openSqlite(driver, 'none');
    try {
      const failure = new TypeOrmIdempotencyStore(bare).claim(claimOf(ID));
      await expect(failure).rejects.toThrow(/no such table: idempotency_records/);
      await expect(failure).rejects.not.toBeInstanceOf(IdempotencyStoreConnectionError);
    } finally {
      await bare.destroy();
    }
  });

  it('throws IdempotencyStoreConnectionError once the DataSource was destroyed (shutdown)', async () => {
    const closing = await openSqlite(driver);
    const closingStore = new TypeOrmIdempotencyStore(closing);
    const claim = claimOf(ID);
    await closingStore.claim(claim);
    await closing.destroy();
    await expect(closingStore.complete(ID, claim.token, RESPONSE, 1_000)).rejects.toThrow(IdempotencyStoreConnectionError);
    await expect(closingStore.claim(claimOf(ID))).rejects.toThrow(/SQLite database closed/);
  });
});

describe('TypeOrmIdempotencyStore on sqljs with autoSave', () => {
  it('saves every write of the store to the file: another DataSource loading it sees the completed record', async () => {
    const directory = await sqliteDirectory();
    const location = directory.file('autosaved.sqlite');
    const writer = await openSqlite({ type: 'sqljs', location, autoSave: true });
    try {
      const claim = claimOf(ID);
      const store = new TypeOrmIdempotencyStore(writer);
      await store.claim(claim);
      await store.complete(ID, claim.token, RESPONSE, 60_000);
      const reader = await openSqlite({ type: 'sqljs', location }, 'none');
      try {
        const replay = await new TypeOrmIdempotencyStore(reader).claim(claimOf(ID));
        expect(replay).toMatchObject({
          claimed: false,
          existing: { status: 'completed', response: { status: 201, body: RESPONSE.body } },
        });
      } finally {
        await reader.destroy();
      }
    } finally {
      await writer.destroy();
      await directory.remove();
    }
  });
});
