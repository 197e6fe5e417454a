import { describe, expect, it } from '@jest/globals';
import { Gates } from '../fixtures/gates.js';
import { CREATE, SLOW } from './documents.js';
import { gql, newKey, type GqlResponse } from './graphql-client.js';
import type { GraphqlHarness } from './graphql-harness.js';

/** The HTTP status a driver answers a refused mutation with, given the refusal's `extensions.status`. */
export type RefusalHttpStatus = (refusalStatus: number) => number;

/** 200 whatever the refusal: a GraphQL response with `data` (even `null`) and errors. */
export const ALWAYS_200: RefusalHttpStatus = () => 200;

/** The refusal's own status (`extensions.status`) as the HTTP status. */
export const REFUSAL_STATUS: RefusalHttpStatus = (status) => status;

/**
 * Refusals: each is one GraphQL error on the mutation's field with the
 * library's `extensions.code` and `extensions.status`, and runs nothing.
 */
export function describeGraphqlRefusals(harness: GraphqlHarness, httpStatus: RefusalHttpStatus) {
  const { app, executions } = harness;

  const expectRefusal = (response: GqlResponse, field: string, code: string, status: number) => {
    expect(response.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/\S/),
        path: [field],
        extensions: expect.objectContaining({ code, status }),
      }),
    ]);
    expect(response.data ?? null).toBeNull();
    expect([code, response.status]).toEqual([code, httpStatus(status)]);
  };

  describe('refusals', () => {
    it('refuses a duplicate while the first still runs with IDEMPOTENCY_KEY_IN_FLIGHT (409), then replays the first', async () => {
      const key = newKey();
      const input = { ref: newKey('ref'), item: 'chair', qty: 1 };
      const gate = app().get(Gates).of(input.ref);
      const first = gql(app(), SLOW, { key, variables: { input } });
      await gate.arrived(1);
      const duplicate = await gql(app(), SLOW, { key, variables: { input } });
      expectRefusal(duplicate, 'slowOrder', 'IDEMPOTENCY_KEY_IN_FLIGHT', 409);
      expect(duplicate.errors?.[0].extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      gate.open();
      const original = await first;
      expect(original.errors).toBeUndefined();
      expect(original.data).toEqual({ slowOrder: { execution: expect.any(Number), ref: input.ref } });
      expect(await gql(app(), SLOW, { key, variables: { input } })).toEqual(original);
      expect(await executions().count(`slowOrder ${input.ref}`)).toBe(1);
    });

    it('refuses the same key with other arguments with IDEMPOTENCY_KEY_REUSED (422) and runs nothing', async () => {
      const key = newKey();
      const input = { ref: newKey('ref'), item: 'table', qty: 1 };
      const first = await gql(app(), CREATE, { key, variables: { input } });
      expect(first.errors).toBeUndefined();
      const reused = await gql(app(), CREATE, { key, variables: { input: { ...input, qty: 2 } } });
      expectRefusal(reused, 'createOrder', 'IDEMPOTENCY_KEY_REUSED', 422);
      expect(await executions().count(`createOrder ${input.ref}`)).toBe(1);
    });

    it.each([
      ['no key', 'IDEMPOTENCY_KEY_MISSING', undefined],
      ['an empty key', 'IDEMPOTENCY_KEY_INVALID', ''],
      ['a key of 300 characters', 'IDEMPOTENCY_KEY_INVALID', 'k'.repeat(300)],
    ])('refuses %s with %s (400) and runs nothing', async (_case, code, key) => {
      const input = { ref: newKey('ref'), item: 'shelf', qty: 1 };
      const response = await gql(app(), CREATE, { key, variables: { input } });
      expectRefusal(response, 'createOrder', code, 400);
      expect(await executions().count(`createOrder ${input.ref}`)).toBe(0);
    });

    it('refuses a user with no id, sub, userId or _id with IDEMPOTENCY_PRINCIPAL_UNRESOLVED (500) and runs nothing', async () => {
      const input = { ref: newKey('ref'), item: 'stool', qty: 1 };
      const headers = { Authorization: 'Name carol' };
      const response = await gql(app(), CREATE, { key: newKey(), headers, variables: { input } });
      expectRefusal(response, 'createOrder', 'IDEMPOTENCY_PRINCIPAL_UNRESOLVED', 500);
      expect(await executions().count(`createOrder ${input.ref}`)).toBe(0);
    });
  });
}
