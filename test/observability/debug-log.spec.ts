import { describe, expect, it } from '@jest/globals';
import { IdempotencyStoreConnectionError, type IdempotencyEvent } from '../../lib/index.js';
import { describeEvent } from '../../lib/observability/debug-log.js';

const base = { scope: 'POST /orders', principal: 'user-42', key: 'k-1', transport: 'http', storeLatencyMs: 1.24 } as const;
const line = (event: Partial<IdempotencyEvent> & Pick<IdempotencyEvent, 'type'>) => describeEvent({ ...base, ...event });

describe('the debug line of each event', () => {
  it.each<[Partial<IdempotencyEvent> & Pick<IdempotencyEvent, 'type'>, string]>([
    [{ type: 'claimed' }, 'claimed POST /orders [user-42] key "k-1": running (store 1.2 ms)'],
    [{ type: 'lease-taken-over' }, 'lease-taken-over POST /orders [user-42] key "k-1": its lease had run out; running (store 1.2 ms)'],
    [{ type: 'replayed', status: 201 }, 'replayed POST /orders [user-42] key "k-1": stored 201 (store 1.2 ms)'],
    [{ type: 'conflict' }, 'conflict POST /orders [user-42] key "k-1": in flight (store 1.2 ms)'],
    [{ type: 'mismatch' }, 'mismatch POST /orders [user-42] key "k-1": another payload (store 1.2 ms)'],
    [{ type: 'not-stored' }, 'not-stored POST /orders [user-42] key "k-1": completed, not replayable (store 1.2 ms)'],
    [{ type: 'completed', status: 201 }, 'completed POST /orders [user-42] key "k-1": stored 201 (store 1.2 ms)'],
    [{ type: 'released' }, 'released POST /orders [user-42] key "k-1": a retry runs again (store 1.2 ms)'],
    [{ type: 'abandoned', storeLatencyMs: 0 }, 'abandoned POST /orders [user-42] key "k-1": outcome in doubt, left to its lease'],
    [{ type: 'forgotten' }, 'forgotten POST /orders [user-42] key "k-1": forgotten by an operator; a retry runs again (store 1.2 ms)'],
    [{ type: 'completion-failed' }, 'completion-failed POST /orders [user-42] key "k-1": the lease was lost (store 1.2 ms)'],
    [
      { type: 'completion-failed', error: new Error('Connection terminated') },
      'completion-failed POST /orders [user-42] key "k-1": Error: Connection terminated (store 1.2 ms)',
    ],
    [
      { type: 'store-error', error: new IdempotencyStoreConnectionError('connect ECONNREFUSED'), failedOpen: false },
      'store-error POST /orders [user-42] key "k-1": IdempotencyStoreConnectionError: connect ECONNREFUSED (store 1.2 ms)',
    ],
    [
      { type: 'store-error', error: new IdempotencyStoreConnectionError('connect ECONNREFUSED'), failedOpen: true },
      'store-error POST /orders [user-42] key "k-1": IdempotencyStoreConnectionError: connect ECONNREFUSED; running unprotected (failOpen) (store 1.2 ms)',
    ],
  ])('%o', (event, expected) => {
    expect(line(event)).toBe(expected);
  });

  it('leaves out an anonymous principal and quotes the key', () => {
    expect(line({ type: 'claimed', principal: '', key: 'a "b"' })).toBe('claimed POST /orders key "a \\"b\\"": running (store 1.2 ms)');
  });
});
