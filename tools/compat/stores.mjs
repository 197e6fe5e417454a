// The stores an app can be built with. Each names the template of the app's
// idempotency setup (template/src/store/<store>.ts.tpl, written as
// src/idempotency-setup.ts), its extra dependencies, and the environment that
// points the booted app at its backend. A new store (e.g. DynamoDB on dynalite)
// is one more entry here and one more template.

/**
 * @typedef {object} StoreVariant
 * @property {(nest: number) => Record<string, string>} dependencies extra dependencies of the app
 * @property {string} backend which shared service the suite starts for it (see backends.mjs)
 * @property {(backend: object, appName: string) => Promise<{ env: Record<string, string>, drop(): Promise<void> }>} provision
 *   a private place on that backend for one app, as environment variables
 */

/** @type {Record<string, StoreVariant>} */
export const STORES = {
  // README "Quick start": TypeOrmModule.forRoot on PostgreSQL, IdempotencyModule.forRoot() with the default store.
  typeorm: {
    dependencies: () => ({ pg: '^8.13.0' }),
    backend: 'postgres',
    provision: async (postgres, appName) => {
      const database = await postgres.createDatabase(`compat_${appName.replaceAll('-', '_')}`);
      return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
    },
  },
};
