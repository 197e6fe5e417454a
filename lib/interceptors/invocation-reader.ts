import type { ExecutionContext } from '@nestjs/common';
import type { IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';
import { canonicalSha256 } from '../protocol/canonical-json.js';
import type { HandlerTransport } from './handler-transport.js';

/** How the interceptor reads the identity of one invocation of a transport. */
export interface InvocationReader {
  /** What the `key` option reads: the request body, the resolver's arguments, the message data. */
  input(context: ExecutionContext): unknown;
  /** The key the invocation carries itself; `undefined` when none. */
  key(context: ExecutionContext): string | undefined;
  /** Where the key is expected, for the answer to an invocation without one; `undefined`: the header. */
  keySource?: string;
  scope(context: ExecutionContext, options: IdempotentOptions): string;
  principal(context: ExecutionContext, options: IdempotentOptions): string | undefined;
  fingerprint(context: ExecutionContext, options: IdempotentOptions): string;
  /** How long a duplicate waits, at most `cap` ms. */
  wait(context: ExecutionContext, cap: number): number;
}

/** A value option (a constant, or a function of the context) when set, else `fallback`. */
export function optionOr<T>(option: T | ((context: ExecutionContext) => T) | undefined, context: ExecutionContext, fallback: () => T): T {
  if (typeof option === 'function') return (option as (context: ExecutionContext) => T)(context);
  return option !== undefined ? option : fallback();
}

/** The reader of a handler transport: the route's options where set, else the transport's defaults. */
export function readerOf(transport: HandlerTransport, header: string): InvocationReader {
  return {
    input: (context) => transport.input(context),
    key: (context) => transport.ownKey(context, header),
    keySource: transport.keySource(header),
    scope: (context, options) => optionOr(options.scope, context, () => transport.defaultScope(context)),
    principal: (context, options) => optionOr(options.principal, context, () => transport.defaultPrincipal(context)),
    fingerprint: (context, options) =>
      options.fingerprint === false ? '' : optionOr(options.fingerprint, context, () => canonicalSha256(transport.input(context))),
    wait: (context, cap) => transport.wait(context, cap),
  };
}
