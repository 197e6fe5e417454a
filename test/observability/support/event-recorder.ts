import { expect } from '@jest/globals';
import type { IdempotencyEvent, IdempotencyEventType, IdempotencyTransport } from '../../../lib/index.js';

/** Keeps every event the `onEvent` hook receives. */
export class EventRecorder {
  readonly events: IdempotencyEvent[] = [];
  readonly listener = (event: IdempotencyEvent): void => {
    this.events.push(event);
  };

  /** The events of the records with `key`, in the order they came. */
  of(key: string): IdempotencyEvent[] {
    return this.events.filter((event) => event.key === key);
  }
}

/** What an event of `type` must equal: its record, transport, any latency, and `details`. */
export function expectedEvent(
  type: IdempotencyEventType,
  record: { scope: string; principal?: string; key: string; transport: IdempotencyTransport },
  details: Partial<IdempotencyEvent> = {},
): IdempotencyEvent {
  return {
    type,
    scope: record.scope,
    principal: record.principal ?? '',
    key: record.key,
    transport: record.transport,
    storeLatencyMs: type === 'abandoned' ? 0 : (expect.any(Number) as unknown as number),
    ...details,
  };
}
