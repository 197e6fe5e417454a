import type { INestApplication, ModuleMetadata, NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AdapterName } from '../../support/app.js';
import { dataSourceMark, destroyDataSourcesSince } from './data-sources.js';

/** How a real app is set up before `init()`, as a user's `main.ts` would. */
export interface RealAppSetup {
  /** NestApplication options, e.g. `{ rawBody: true }`. */
  options?: Omit<NestApplicationOptions, 'logger'>;
  /** Runs between `createNestApplication()` and `init()`: `useGlobalInterceptors`, `useBodyParser`... */
  configure?: (app: INestApplication, adapter: AdapterName) => void | Promise<void>;
  /** Listens on an ephemeral port of 127.0.0.1 (for raw sockets); supertest does not need it. */
  listen?: boolean;
}

/**
 * Boots `imports` as a Nest application on a real HTTP adapter, ready for
 * supertest. Unlike test/support/app.ts it takes NestApplication options and a
 * `configure` step.
 */
export async function bootRealApp(
  adapter: AdapterName,
  imports: ModuleMetadata['imports'],
  setup: RealAppSetup = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  const app = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
    ...setup.options,
    logger: process.env.TEST_LOG ? ['error', 'warn'] : false,
  });
  try {
    await setup.configure?.(app, adapter);
    if (setup.listen) {
      await app.listen(0, '127.0.0.1');
    } else {
      await app.init();
    }
    if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

/**
 * The error with which booting failed. Fails the test (and closes the app)
 * when it booted. `boot` may throw synchronously (e.g. in `forRoot()`) or reject.
 * The DataSources of the failed app are destroyed.
 */
export async function bootFailure(boot: () => Promise<INestApplication>): Promise<Error> {
  const mark = dataSourceMark();
  let app: INestApplication;
  try {
    app = await boot();
  } catch (error) {
    await destroyDataSourcesSince(mark);
    if (!(error instanceof Error)) throw new Error(`booting failed with a non-Error: ${String(error)}`, { cause: error });
    return error;
  }
  await app.close();
  throw new Error('the application booted, but it was expected to refuse to start');
}
