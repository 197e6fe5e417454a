import { afterAll, beforeAll } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Executions } from '../fixtures/executions.js';
import { bootGraphqlApp, type DriverName, type GraphqlAppOptions } from './graphql-app.js';

/** The app a describe block's tests call, booted once for the block. */
export interface GraphqlHarness {
  readonly driver: DriverName;
  app(): INestApplication;
  /** Counts runs in the `executions` table (rows, not a JS counter). */
  executions(): Executions;
}

/** Boots the GraphQL app of `driver` on a database of its own in `beforeAll`, and closes both in `afterAll`. */
export function useGraphqlApp(driver: DriverName, options?: GraphqlAppOptions): GraphqlHarness {
  let database: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootGraphqlApp(driver, database.url, options);
    await app.get(DataSource).query(Executions.ddl);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  return { driver, app: () => app, executions: () => app.get(Executions) };
}
