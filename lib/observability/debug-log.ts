import type { Logger } from '@nestjs/common';
import type { IdempotencyEvent, IdempotencyEventListener, IdempotencyEventType } from './idempotency-event.js';

/** Writes each event as one debug line of `logger` (see {@link describeEvent}). */
export function debugLogListener(logger: Logger): IdempotencyEventListener {
  return (event) => logger.debug(describeEvent(event));
}

/** What follows the record in the line of each event type. */
const OUTCOMES: Record<IdempotencyEventType, (event: IdempotencyEvent) => string> = {
  claimed: () => 'running',
  'lease-taken-over': () => 'its lease had run out; running',
  replayed: (event) => `stored ${event.status}`,
  conflict: () => 'in flight',
  mismatch: () => 'another payload',
  'not-stored': () => 'completed, not replayable',
  completed: (event) => `stored ${event.status}`,
  released: () => 'a retry runs again',
  abandoned: () => 'outcome in doubt, left to its lease',
  'completion-failed': (event) => (event.error === undefined ? 'the lease was lost' : errorText(event.error)),
  forgotten: () => 'forgotten by an operator; a retry runs again',
  'store-error': (event) => `${errorText(event.error)}${event.failedOpen ? '; running unprotected (failOpen)' : ''}`,
};

/**
 * One line for `event`, bodies never included, e.g.
 * `claimed POST /orders [user-42] key "k-1": running (store 1.2 ms)`.
 * The principal is left out for anonymous requests.
 */
export function describeEvent(event: IdempotencyEvent): string {
  const principal = event.principal ? ` [${event.principal}]` : '';
  const latency = event.type === 'abandoned' ? '' : ` (store ${event.storeLatencyMs.toFixed(1)} ms)`;
  return `${event.type} ${event.scope}${principal} key ${JSON.stringify(event.key)}: ${OUTCOMES[event.type](event)}${latency}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
