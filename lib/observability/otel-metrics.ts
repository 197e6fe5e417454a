// Loaded only by `event-listeners.ts`, with `import()`: `@opentelemetry/api` is an optional peer.
import { createNoopMeter, metrics, type Attributes } from '@opentelemetry/api';
import type { IdempotencyEventListener } from './idempotency-event.js';

/** Name of the meter, the instrumentation scope of the metrics. */
export const METER_NAME = 'nestjs-idempotency';

/** Counter of decisions, one per event. */
export const DECISIONS_METRIC = 'idempotency.decisions';

/** Histogram of the store call behind each decision, in seconds. */
export const STORE_DURATION_METRIC = 'idempotency.store.duration';

/** Buckets of {@link STORE_DURATION_METRIC}: OpenTelemetry's advice for durations in seconds (HTTP, database clients). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * A listener that records each event on the global MeterProvider, or
 * `undefined` when none is registered (the API's no-op meter would discard
 * every measurement: nothing is built, nothing is measured). Register the
 * provider before the Nest module initializes.
 *
 * - `idempotency.decisions` (counter, `{decision}`): attributes
 *   `idempotency.outcome` (the event type), `idempotency.scope`,
 *   `idempotency.transport`, and `error.type` (the error's class) when the
 *   event carries an error. Keys and principals are never attributes.
 * - `idempotency.store.duration` (histogram, `s`): the store call behind a
 *   decision (not recorded for `abandoned`, which makes none), with
 *   `idempotency.outcome` and `idempotency.transport`.
 */
export function metricsListener(): IdempotencyEventListener | undefined {
  const meter = metrics.getMeter(METER_NAME);
  if (meter === createNoopMeter()) return undefined;
  const decisions = meter.createCounter(DECISIONS_METRIC, {
    description: 'Decisions of the idempotency protocol (claimed, replayed, conflict, ...), by outcome.',
    unit: '{decision}',
  });
  const storeDuration = meter.createHistogram(STORE_DURATION_METRIC, {
    description: 'Duration of the idempotency store call behind each decision.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  return (event) => {
    const outcome = { 'idempotency.outcome': event.type, 'idempotency.transport': event.transport };
    const attributes: Attributes = { ...outcome, 'idempotency.scope': event.scope };
    if (event.error !== undefined) attributes['error.type'] = errorType(event.error);
    decisions.add(1, attributes);
    if (event.type !== 'abandoned') storeDuration.record(event.storeLatencyMs / 1000, outcome);
  };
}

/** The `error.type` of an error: its class name (OpenTelemetry semantic conventions), else `_OTHER`. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name : '_OTHER';
}
