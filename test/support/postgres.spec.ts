import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './database.js';

describe('test PostgreSQL server', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('is reachable at DATABASE_URL', async () => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version: string }>('show server_version');
      expect(rows[0].server_version).toMatch(/^\d+/);
    } finally {
      await client.end();
    }
  });

  it('gives each spec file a database of its own', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ one: number; db: string }>('select 1 as one, current_database() as db');
      expect(rows).toEqual([{ one: 1, db: database.name }]);
    } finally {
      await client.end();
    }
  });

  it('drops the database, even with connections still open', async () => {
    const extra = await createTestDatabase();
    const client = new pg.Client({ connectionString: extra.url });
    client.on('error', () => undefined); // terminated by DROP ... WITH (FORCE)
    await client.connect();
    await extra.drop();

    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [extra.name]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
      await client.end().catch(() => undefined);
    }
  });
});
