import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule, IdempotencyRecord, InMemoryIdempotencyStore } from '../../lib/index.js';
import { Executions } from '../fixtures/executions.js';
import { Gates } from '../fixtures/gates.js';
import { GqlUserGuard } from './gql-user.guard.js';
import { OrdersResolver } from './orders.resolver.js';
import { ShipmentsResolver } from './shipments.resolver.js';

/** A GraphQL driver with the HTTP platform it runs on: Apollo on Express, Mercurius on Fastify. */
export type DriverName = 'apollo' | 'mercurius';

/** Options of the app beside its driver and store. */
export interface GraphqlAppOptions {
  /** Default: the orders and shipments resolvers. */
  resolvers?: Type[];
  /** Apollo driver options, e.g. `{ preserveHttpStatusForExecutionErrors: false }`. */
  apollo?: Partial<ApolloDriverConfig>;
}

/** The GraphQL module of `driver`. */
async function graphqlRoot(driver: DriverName, options: GraphqlAppOptions): Promise<DynamicModule> {
  if (driver === 'apollo') {
    return GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      graphiql: false,
      ...options.apollo,
    });
  }
  return GraphQLModule.forRoot<MercuriusDriverConfig>({
    driver: MercuriusDriver,
    autoSchemaFile: true,
    graphiql: false,
  });
}

/** Where the idempotency records go: PostgreSQL at a URL, or (for apps that must not start) memory. */
export type GraphqlStore = { url: string } | 'memory';

/** A code-first GraphQL app: `resolvers`, the library, the user guard, and the executions table's service. */
@Module({})
export class GraphqlAppModule {
  static async forRoot(
    driver: DriverName,
    store: GraphqlStore,
    options: GraphqlAppOptions = {},
  ): Promise<DynamicModule> {
    const { resolvers = [OrdersResolver, ShipmentsResolver] } = options;
    const providers: Provider[] = [...resolvers, Gates, { provide: APP_GUARD, useClass: GqlUserGuard }];
    if (store === 'memory') {
      return {
        module: GraphqlAppModule,
        imports: [
          await graphqlRoot(driver, options),
          IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore() }),
        ],
        providers,
      };
    }
    return {
      module: GraphqlAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: store.url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot(),
        await graphqlRoot(driver, options),
      ],
      providers: [...providers, Executions],
    };
  }
}

/**
 * Creates the app on its driver's HTTP platform, not yet initialised:
 * the caller runs `init()` (see {@link bootGraphqlApp}).
 */
export async function createGraphqlApp(
  driver: DriverName,
  store: GraphqlStore,
  options?: GraphqlAppOptions,
): Promise<INestApplication> {
  const imports = [await GraphqlAppModule.forRoot(driver, store, options)];
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  return moduleRef.createNestApplication(driver === 'mercurius' ? new FastifyAdapter() : new ExpressAdapter(), {
    logger: process.env.TEST_LOG ? ['error', 'warn'] : false,
  });
}

/** Boots the GraphQL app on a real HTTP server, ready for supertest. */
export async function bootGraphqlApp(
  driver: DriverName,
  url: string,
  options?: GraphqlAppOptions,
): Promise<INestApplication> {
  const app = await createGraphqlApp(driver, { url }, options);
  await app.init();
  if (driver === 'mercurius') await app.getHttpAdapter().getInstance().ready();
  return app;
}
