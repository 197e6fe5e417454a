import type { ExecutionContext } from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { IdempotencyKeyInFlightException } from '../exceptions/idempotency-key-in-flight.exception.js';
import { IdempotencyStoreUnavailableException } from '../exceptions/idempotency-store-unavailable.exception.js';
import type { Admission } from '../protocol/admissions.js';
import type { Lease } from '../protocol/idempotency-lease.js';
import { decodeStoredValues, encodeStoredValues } from '../protocol/stored-values.js';
import type { HandlerTransport, Settlement } from './handler-transport.js';

/** Seconds before a message refused by an unexpected error is delivered again. */
const UNEXPECTED_ERROR_RETRY_SECONDS = 5;

/** One invocation of a handler other than an HTTP route, and how to run it. */
export interface ProtectedInvocation {
  context: ExecutionContext;
  transport: HandlerTransport;
  /** An event handler: a duplicate is skipped (acknowledged), not answered. */
  event: boolean;
  admit(): Promise<Admission>;
  handle(): Observable<unknown>;
}

/**
 * Runs a GraphQL resolver or a message handler under its admission. Its
 * outcome is the values it emits (a resolver's result, a message's
 * replies): held until the handler completes, stored (their JSON), then
 * passed on, so a reply never leaves before the record that replays it. A
 * duplicate gets the stored values (an event duplicate: nothing); a failure
 * releases the key; an unsubscribe while running leaves the outcome in
 * doubt (the lease). Refusals leave as the transport's errors.
 */
export function protectHandler(invocation: ProtectedInvocation): Observable<unknown> {
  const { context, transport, event } = invocation;
  return new Observable((subscriber) => {
    let run: Subscription | undefined;
    let lease: Lease | null = null;
    let finished = false;
    invocation.admit().then(
      (admission) => {
        if (admission.kind === 'replay') {
          transport.settle?.(context, 'answered', 0);
          if (!event) for (const value of decodeStoredValues(admission.response.body as Buffer)) subscriber.next(value);
          return subscriber.complete();
        }
        lease = admission.lease;
        if (subscriber.closed) return void lease?.release();
        const values: unknown[] = [];
        run = invocation.handle().subscribe({
          next: (value) => values.push(value),
          error: (error: unknown) => {
            finished = true;
            void settleLease(lease, () => lease!.release()).then(() => subscriber.error(error));
          },
          complete: () => {
            finished = true;
            void settleLease(lease, () => lease!.complete({ status: 200, headers: {}, body: storable(event ? [] : values) })).then(() => {
              for (const value of values) subscriber.next(value);
              subscriber.complete();
            });
          },
        });
      },
      (error: unknown) => {
        const settlement = settlementOf(error);
        transport.settle?.(context, settlement, retryAfterOf(error));
        subscriber.error(error instanceof IdempotencyException ? transport.refusal(error) : error);
      },
    );
    return () => {
      run?.unsubscribe();
      if (run && !finished) lease?.abandon();
    };
  });
}

function settleLease(lease: Lease | null, end: () => Promise<void>): Promise<void> {
  return lease ? end() : Promise.resolve();
}

/** The stored form of the values, `null` (completed, not replayable) when they have none (BigInt, a cycle). */
function storable(values: unknown[]): Buffer | null {
  try {
    return encodeStoredValues(values);
  } catch {
    return null;
  }
}

function settlementOf(error: unknown): Settlement {
  if (error instanceof IdempotencyKeyInFlightException || error instanceof IdempotencyStoreUnavailableException) return 'retry-later';
  return error instanceof IdempotencyException ? 'refused' : 'retry-later';
}

function retryAfterOf(error: unknown): number {
  return error instanceof IdempotencyException ? (error.retryAfterSeconds ?? 0) : UNEXPECTED_ERROR_RETRY_SECONDS;
}
