import { describe, expect, it } from '@jest/globals';
import { Gates } from '../fixtures/gates.js';
import { FAILING, WAITING } from './documents.js';
import { gql, newKey, recordsOf } from './graphql-client.js';
import type { GraphqlHarness } from './graphql-harness.js';

/** What a duplicate gets while the first run goes on (the `wait` option), and after the first run failed. */
export function describeGraphqlLifecycle(harness: GraphqlHarness) {
  const { app, executions } = harness;

  describe('while and after the first run', () => {
    it('lets a duplicate of a mutation with the wait option wait for the first run, and answers it its data', async () => {
      const key = newKey();
      const input = { ref: newKey('ref'), item: 'rug', qty: 1 };
      const gate = app().get(Gates).of(input.ref);
      const first = gql(app(), WAITING, { key, variables: { input } });
      await gate.arrived(1);
      let settled = false;
      const duplicate = gql(app(), WAITING, { key, variables: { input } }).finally(() => (settled = true));
      // Prefer: wait=0 asks for no wait: answered at once, while the first still runs.
      const impatient = await gql(app(), WAITING, { key, variables: { input }, headers: { Prefer: 'wait=0' } });
      expect(impatient.errors?.map((error) => error.extensions?.code)).toEqual(['IDEMPOTENCY_KEY_IN_FLIGHT']);
      expect(settled).toBe(false);
      gate.open();
      const [original, waited] = await Promise.all([first, duplicate]);
      expect(original.errors).toBeUndefined();
      expect(waited).toEqual(original);
      expect(await executions().count(`waitingOrder ${input.ref}`)).toBe(1);
    });

    it('releases the key when the resolver throws: a retry runs again', async () => {
      const key = newKey();
      const input = { ref: newKey('ref'), item: 'vase', qty: 1 };
      const first = await gql(app(), FAILING, { key, variables: { input } });
      const retry = await gql(app(), FAILING, { key, variables: { input } });
      const messages = [first, retry].map((response) => response.errors?.map((error) => error.message));
      expect(messages).toEqual([
        [expect.stringMatching(/^out of stock \(execution \d+\)$/)],
        [expect.stringMatching(/^out of stock \(execution \d+\)$/)],
      ]);
      expect(retry.errors?.[0].message).not.toBe(first.errors?.[0].message);
      expect(await executions().count(`failingOrder ${input.ref}`)).toBe(2);
      expect(await recordsOf(app(), key)).toEqual([]);
    });
  });
}
