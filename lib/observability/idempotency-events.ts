import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { IDEMPOTENCY_OPTIONS } from '../idempotency.internal-constants.js';
import type { IdempotencyModuleOptions } from '../interfaces/idempotency-module-options.interface.js';
import type { IdempotencyRecordId } from '../interfaces/idempotency-store.interface.js';
import type { IdempotencyEvent, IdempotencyEventListener, IdempotencyEventType, IdempotencyTransport } from './idempotency-event.js';
import { eventListeners } from './event-listeners.js';

/**
 * The one fan-out of the protocol's decisions: the `onEvent` option, the
 * debug log (when Nest's Logger has `debug` on) and OpenTelemetry metrics
 * (when `@opentelemetry/api` is installed with a global MeterProvider),
 * chosen once when the module initializes.
 *
 * The protocol asks {@link enabled} before it measures a store call or
 * builds an event: with nobody listening a decision costs that one check.
 */
@Injectable()
export class IdempotencyEvents implements OnModuleInit {
  /** Whether anyone listens. */
  enabled = false;
  private listeners: IdempotencyEventListener[] = [];
  private readonly logger = new Logger('Idempotency');

  constructor(@Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyModuleOptions) {}

  /** Chooses the listeners: after the app's logger is set, before the first request. */
  async onModuleInit(): Promise<void> {
    this.listeners = await eventListeners(this.options, this.logger);
    this.enabled = this.listeners.length > 0;
  }

  /** How many listeners were chosen (the user's hook, the debug log, metrics). */
  get listenerCount(): number {
    return this.listeners.length;
  }

  /** Hands `event` to every listener; what one throws is logged, never thrown. */
  emit(event: IdempotencyEvent): void {
    for (const listener of this.listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) result.catch((error: unknown) => this.failed(event, error));
      } catch (error) {
        this.failed(event, error);
      }
    }
  }

  /** A start time for {@link since}: 0 (nothing measured) when nobody listens. */
  now(): number {
    return this.enabled ? performance.now() : 0;
  }

  /** Milliseconds since `start` (from {@link now}); 0 when nothing was measured. */
  since(start: number): number {
    return start > 0 ? performance.now() - start : 0;
  }

  private failed(event: IdempotencyEvent, error: unknown): void {
    this.logger.error(`An idempotency event listener failed on a "${event.type}" event (the request is not affected).`, error);
  }
}

/**
 * The event of decision `type` about the record `id`, for a request of
 * `terms.transport` (`service` when unset); `details` adds status, error...
 * Built only when {@link IdempotencyEvents.enabled}.
 */
export function decisionEvent(
  type: IdempotencyEventType,
  id: IdempotencyRecordId,
  terms: { transport?: IdempotencyTransport },
  storeLatencyMs: number,
  details?: Pick<IdempotencyEvent, 'status' | 'error' | 'failedOpen'>,
): IdempotencyEvent {
  return { type, scope: id.scope, principal: id.principal, key: id.key, transport: terms.transport ?? 'service', storeLatencyMs, ...details };
}
