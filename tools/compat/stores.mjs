// The stores an app can be built with. Each names the template of the app's
// idempotency setup (template/src/store/<store>.ts.tpl, written as
// src/idempotency-setup.ts), its extra dependencies, and the environment that
// points the booted app at its backend. A new store is one more entry here,
// one more template, and (for a new kind of service) a starter in backends.mjs.
import { NEST_MAJORS } from './matrix.mjs';

/**
 * @typedef {object} StoreVariant
 * @property {(nest: number) => Record<string, string>} dependencies extra dependencies of the app
 * @property {string[]} shownVersions packages whose installed version the install line shows (see app-checks.mjs)
 * @property {string} backend which shared service the suite starts for it (see backends.mjs)
 * @property {(backend: object, appName: string) => Promise<{ env: Record<string, string>, drop(): Promise<void> }>} provision
 *   a private place on that backend for one app, as environment variables
 */

/** @type {Record<string, StoreVariant>} */
export const STORES = {
  // README "Quick start": TypeOrmModule.forRoot on PostgreSQL, IdempotencyModule.forRoot() with the default store.
  typeorm: {
    dependencies: (nest) => ({ ...NEST_MAJORS[nest].typeorm, pg: '^8.13.0' }),
    shownVersions: [],
    backend: 'postgres',
    provision: async (postgres, appName) => {
      const database = await postgres.createDatabase(`compat_${appName.replaceAll('-', '_')}`);
      return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
    },
  },
  // README "DynamoDB": an app without TypeORM or a database. Its DynamoDBClient points at DYNAMODB_ENDPOINT,
  // IdempotencyModule.forRootAsync creates the table (createDynamoDbIdempotencyTable) and returns the store.
  // @nestjs/typeorm and typeorm are not in its package.json: npm installs them as the package's peers.
  dynamodb: {
    dependencies: () => ({ '@aws-sdk/client-dynamodb': '^3.0.0' }),
    shownVersions: ['@aws-sdk/client-dynamodb'],
    backend: 'dynalite',
    // A table per app on the shared dynalite, which the app creates at startup; dynalite keeps its tables
    // in memory and is stopped at the end of the run, so there is nothing to drop.
    provision: async (dynalite, appName) => ({
      env: { DYNAMODB_ENDPOINT: dynalite.endpoint, IDEMPOTENCY_TABLE: `compat_${appName.replaceAll('-', '_')}` },
      drop: async () => {},
    }),
  },
};
