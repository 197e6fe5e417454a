import type { ExecutionContext } from '@nestjs/common';
import type { IdempotencyException } from '../exceptions/idempotency.exception.js';
import type { IdempotencyModuleOptions } from '../interfaces/idempotency-module-options.interface.js';

/** What became of a message that was answered or refused without running its handler. */
export type Settlement =
  /** Answered (replayed, or a duplicate event skipped): done with it. */
  | 'answered'
  /** Its first delivery is still in flight, or the store is down: deliver it again later. */
  | 'retry-later'
  /** Refused for good (a key reused with another payload, no key): never deliver it again. */
  | 'refused';

/**
 * How idempotency reads and answers one kind of handler other than an HTTP
 * route (a GraphQL resolver, a message handler): a thin adapter over the
 * protocol, loaded the first time a handler of its kind runs.
 */
export interface HandlerTransport {
  /** What the `key` option and the fingerprint read: the resolver's arguments, the message data. */
  input(context: ExecutionContext): unknown;
  /**
   * The key the invocation carries itself (the operation's HTTP header, the
   * message id); `undefined` when it has none.
   * @throws InvalidIdempotencyKeyException for an unusable key.
   */
  ownKey(context: ExecutionContext, header: string): string | undefined;
  /** Where a key is expected, for the answer to an invocation without one (e.g. `'a message id'`). */
  keySource(header: string): string;
  /** The scope when the `scope` option is unset. */
  defaultScope(context: ExecutionContext): string;
  /** The principal when the `principal` option is unset; `undefined` for none. */
  defaultPrincipal(context: ExecutionContext): string | undefined;
  /** How long a duplicate waits: `cap`, or less when the caller asks for less. */
  wait(context: ExecutionContext, cap: number): number;
  /** A refusal of the library as this transport's error. */
  refusal(error: IdempotencyException): unknown;
  /** Tells the broker what became of a message its handler did not run for (manual acknowledgements). */
  settle?(context: ExecutionContext, settlement: Settlement, retryAfterSeconds: number): void;
}

/** Builds the transport of a handler kind; `warn` logs a message once per id. */
export type HandlerTransportFactory = (options: IdempotencyModuleOptions, warn: (id: string, message: string) => void) => HandlerTransport;
