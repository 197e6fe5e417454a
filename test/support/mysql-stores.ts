import { randomUUID } from 'node:crypto';
import mysql from 'mysql2';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  MysqlIdempotencyRecord,
  TypeOrmIdempotencyStore,
  type ClaimRequest,
  type IdempotencyRecordId,
  type TypeOrmIdempotencyStoreOptions,
} from '../../lib/index.js';

/** The record the MySQL store specs claim. */
export const ID: IdempotencyRecordId = { scope: 'POST /orders', principal: 'alice', key: 'key-1' };

/** A claim of `id` with a fresh token and a one-minute lease, as `overrides` do not say otherwise. */
export const claimOf = (id: IdempotencyRecordId, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  ...id,
  fingerprint: 'fp',
  token: randomUUID(),
  lockTimeout: 60_000,
  ...overrides,
});

/** A response the MySQL store specs complete records with. */
export const RESPONSE = { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok') };

/** The DataSource types of TypeORM's MySQL driver. */
export type MysqlType = 'mysql' | 'mariadb';

/** An initialized DataSource on `url`, with the MySQL record entity. */
export async function openMysqlDataSource(
  url: string,
  type: MysqlType,
  options: Partial<DataSourceOptions> = {},
): Promise<DataSource> {
  const dataSource = new DataSource({ type, url, entities: [MysqlIdempotencyRecord], ...options } as DataSourceOptions);
  return dataSource.initialize();
}

/**
 * mysql2 (the DataSource's `driver` option) whose pools set the session
 * `time_zone` of each connection they open, before its first statement:
 * the DataSource's pool and the store's lease lane alike.
 */
export function mysql2WithSessionTimeZone(timeZone: string): typeof mysql {
  return {
    ...mysql,
    createPool(options: mysql.PoolOptions) {
      const pool = mysql.createPool(options);
      pool.on('connection', (connection) => void connection.query(`SET time_zone = '${timeZone}'`));
      return pool;
    },
  } as typeof mysql;
}

/**
 * Stores of a test file: each call of {@link create} opens one on `dataSource`;
 * {@link closeAll} closes their lease lanes (pools of their own).
 */
export class MysqlStores {
  private readonly opened: TypeOrmIdempotencyStore[] = [];

  create(dataSource: DataSource, options?: TypeOrmIdempotencyStoreOptions): TypeOrmIdempotencyStore {
    const store = new TypeOrmIdempotencyStore(dataSource, options);
    this.opened.push(store);
    return store;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((store) => store.onApplicationShutdown()));
  }
}
