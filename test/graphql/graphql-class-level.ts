import { describe, expect, it } from '@jest/globals';
import { gql, newKey, recordsOf } from './graphql-client.js';
import type { GraphqlHarness } from './graphql-harness.js';

const SHIP = `mutation Ship($ref: String!) { ship(ref: $ref) { execution ref tracking } }`;
const SHIPMENTS = `query Shipments($ref: String!) { shipments(ref: $ref) }`;

/** `@Idempotent()` on a resolver class (see shipments.resolver.ts). */
export function describeGraphqlClassLevel(harness: GraphqlHarness) {
  const { app } = harness;

  describe('on a resolver class', () => {
    it('covers its mutations: a retry replays, a call without a key is refused', async () => {
      const key = newKey();
      const ref = newKey('ref');
      const first = await gql(app(), SHIP, { key, variables: { ref } });
      expect(first.errors).toBeUndefined();
      const { execution } = (first.data as { ship: { execution: number } }).ship;
      expect(first.data).toEqual({ ship: { execution, ref, tracking: `T-${execution}` } });
      expect(await gql(app(), SHIP, { key, variables: { ref } })).toEqual(first);
      const keyless = await gql(app(), SHIP, { variables: { ref } });
      expect(keyless.errors?.map((error) => error.extensions?.code)).toEqual(['IDEMPOTENCY_KEY_MISSING']);
      expect((await recordsOf(app(), key)).map((row) => row.scope)).toEqual(['Mutation.ship']);
    });

    it('leaves its queries and field resolvers alone: they answer without a key', async () => {
      const ref = newKey('ref');
      await gql(app(), SHIP, { key: newKey(), variables: { ref } });
      const shipments = await gql(app(), SHIPMENTS, { variables: { ref } });
      expect(shipments).toEqual({ status: 200, data: { shipments: 1 }, errors: undefined });
    });
  });
}
