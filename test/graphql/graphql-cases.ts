import { describe, expect, it } from '@jest/globals';
import { CREATE, CREATE_AND_CANCEL, CREATE_TWICE, PLACE } from './documents.js';
import { gql, newKey, recordsOf } from './graphql-client.js';
import type { GraphqlHarness } from './graphql-harness.js';

/** Replays: what runs once and what each retry gets back, the same on every driver. */
export function describeGraphqlReplays(harness: GraphqlHarness) {
  const { app, executions } = harness;

  describe('replays', () => {
    it('runs a mutation once for two requests with the same key, and answers both with the same data (a DateTime field too)', async () => {
      const key = newKey();
      const input = { ref: newKey('ref'), item: 'book', qty: 2 };
      const first = await gql(app(), CREATE, { key, variables: { input } });
      const retry = await gql(app(), CREATE, { key, variables: { input } });
      expect(first.errors).toBeUndefined();
      expect(first.data).toEqual({
        createOrder: { execution: expect.any(Number), ...input, label: '2 x book', placedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      });
      expect(retry).toEqual(first);
      expect(await executions().count(`createOrder ${input.ref}`)).toBe(1);
      expect(await recordsOf(app(), key)).toEqual([
        { scope: 'Mutation.createOrder', principal: expect.any(String), status: 'completed' },
      ]);
    });

    it('runs two different mutations of one document once each under one key, and replays both', async () => {
      const key = newKey();
      const ref = newKey('ref');
      const variables = { input: { ref, item: 'lamp', qty: 1 }, ref };
      const first = await gql(app(), CREATE_AND_CANCEL, { key, variables });
      const retry = await gql(app(), CREATE_AND_CANCEL, { key, variables });
      expect(first.errors).toBeUndefined();
      expect(first.data).toEqual({
        createOrder: { execution: expect.any(Number), ref },
        cancelOrder: { execution: expect.any(Number), ref, reason: 'changed mind' },
      });
      expect(retry).toEqual(first);
      expect(await executions().count(`createOrder ${ref}`)).toBe(1);
      expect(await executions().count(`cancelOrder ${ref}`)).toBe(1);
      const scopes = (await recordsOf(app(), key)).map((row) => row.scope);
      expect(scopes).toEqual(['Mutation.cancelOrder', 'Mutation.createOrder']);
    });

    it('gives each alias of the same mutation field a record of its own', async () => {
      const key = newKey();
      const ref = newKey('ref');
      const variables = { first: { ref, item: 'cup', qty: 1 }, second: { ref, item: 'mug', qty: 1 } };
      const first = await gql(app(), CREATE_TWICE, { key, variables });
      const retry = await gql(app(), CREATE_TWICE, { key, variables });
      expect(first.errors).toBeUndefined();
      expect(first.data).toEqual({
        first: { execution: expect.any(Number), item: 'cup' },
        second: { execution: expect.any(Number), item: 'mug' },
      });
      expect(retry).toEqual(first);
      expect(await executions().count(`createOrder ${ref}`)).toBe(2);
      expect((await recordsOf(app(), key)).map((row) => row.scope)).toEqual([
        'Mutation.createOrder@first',
        'Mutation.createOrder@second',
      ]);
    });

    it('keeps the same key of two users apart: each runs once and replays its own data', async () => {
      const key = newKey();
      const input = { ref: newKey('ref'), item: 'pen', qty: 3 };
      const alice = await gql(app(), CREATE, { key, user: 'alice', variables: { input } });
      const bob = await gql(app(), CREATE, { key, user: 'bob', variables: { input } });
      expect([alice.errors, bob.errors]).toEqual([undefined, undefined]);
      expect(bob.data).not.toEqual(alice.data);
      expect(await gql(app(), CREATE, { key, user: 'alice', variables: { input } })).toEqual(alice);
      expect(await gql(app(), CREATE, { key, user: 'bob', variables: { input } })).toEqual(bob);
      expect(await executions().count(`createOrder ${input.ref}`)).toBe(2);
      expect((await recordsOf(app(), key)).map((row) => row.principal)).toEqual(['alice', 'bob']);
    });

    it('takes the key from an argument with the key option, without the header', async () => {
      const requestId = newKey('request');
      const input = { requestId, ref: newKey('ref'), item: 'desk' };
      const first = await gql(app(), PLACE, { variables: { input } });
      const retry = await gql(app(), PLACE, { variables: { input } });
      expect(first.errors).toBeUndefined();
      expect(first.data).toEqual({
        placeOrder: { execution: expect.any(Number), ref: input.ref, item: 'desk', label: '1 x desk' },
      });
      expect(retry).toEqual(first);
      const other = await gql(app(), PLACE, { variables: { input: { ...input, requestId: newKey('request') } } });
      expect(other.data).not.toEqual(first.data);
      expect(await executions().count(`placeOrder ${input.ref}`)).toBe(2);
      expect((await recordsOf(app(), requestId)).map((row) => row.scope)).toEqual(['Mutation.placeOrder']);
    });
  });
}
