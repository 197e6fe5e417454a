import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { INestApplication } from '@nestjs/common';
import { Args, GraphQLModule, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Idempotent, IdempotencyModule, InMemoryIdempotencyStore } from '../../lib/index.js';
import { gql } from '../graphql/graphql-client.js';
import { EventRecorder, expectedEvent } from './support/event-recorder.js';

@Resolver()
class PaymentsResolver {
  @Query(() => String)
  health() {
    return 'ok';
  }

  @Mutation(() => String)
  @Idempotent()
  pay(@Args('amount', { type: () => Int }) amount: number) {
    return `paid ${amount}`;
  }
}

/** A GraphQL mutation emits the same events as an HTTP route, as transport `graphql`. */
describe('events of a GraphQL mutation (Apollo)', () => {
  const recorder = new EventRecorder();
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false }),
        IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore(), onEvent: recorder.listener }),
      ],
      providers: [PaymentsResolver],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.init();
  });

  afterAll(() => app?.close());

  it('claimed, completed; a retry: replayed; another payload: mismatch', async () => {
    const pay = (amount: number) => gql(app, 'mutation Pay($amount: Int!) { pay(amount: $amount) }', { key: 'pay-1', variables: { amount } });
    expect((await pay(5)).data).toEqual({ pay: 'paid 5' });
    expect((await pay(5)).data).toEqual({ pay: 'paid 5' });
    expect((await pay(6)).errors?.[0].extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const record = { scope: 'Mutation.pay', key: 'pay-1', transport: 'graphql' as const };
    expect(recorder.of('pay-1')).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 200 }),
      expectedEvent('replayed', record, { status: 200 }),
      expectedEvent('mismatch', record),
    ]);
  });
});
