import { describe, expect, it } from '@jest/globals';
import { Query, Resolver } from '@nestjs/graphql';
import { IdempotencyConfigurationError, Idempotent } from '../../lib/index.js';
import { createGraphqlApp, type DriverName } from './graphql-app.js';

/** A query is not a mutation: `@Idempotent()` on it is a mistake the app must not start with. */
@Resolver()
export class IdempotentQueryResolver {
  @Query(() => String)
  @Idempotent()
  orderCount(): string {
    return '0';
  }
}

/** Startup checks of `@Idempotent()` on resolvers. */
export function describeGraphqlStartup(driver: DriverName) {
  describe('startup', () => {
    it('refuses to start with @Idempotent() on a @Query: app.init() rejects with IdempotencyConfigurationError', async () => {
      const app = await createGraphqlApp(driver, 'memory', { resolvers: [IdempotentQueryResolver] });
      try {
        const init = app.init();
        await expect(init).rejects.toThrow(IdempotencyConfigurationError);
        await expect(init).rejects.toThrow(/IdempotentQueryResolver\.orderCount/);
      } finally {
        await app.close().catch(() => undefined);
      }
    });
  });
}
