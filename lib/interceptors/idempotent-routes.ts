import type { Type } from '@nestjs/common';
import {
  PATH_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { Reflector } from '@nestjs/core';
import { DEFAULT_IDEMPOTENT_OPTIONS, type IdempotentDefaults } from '../idempotency.constants.js';
import { IDEMPOTENT_METADATA } from '../idempotency.internal-constants.js';
import type { IdempotencyModuleOptions, IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';
import type { AdmissionTerms } from '../protocol/admissions.js';
import { resolveOptions } from '../protocol/resolve-options.js';
import { validateRouteOptions } from '../protocol/validate-options.js';

/** A route handler: a method of a controller's prototype. */
export type Handler = (...args: never[]) => unknown;

/** Route options with every default filled in. */
export type ResolvedIdempotentOptions = IdempotentOptions & IdempotentDefaults;

/** What kind of handler a decorated method is. */
export type HandlerKind = 'http' | 'graphql' | 'message' | 'event' | 'websocket' | 'other';

/** Metadata keys that tell the handler kinds apart (their packages are optional peers, so not imported). */
const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
/** `PatternHandler.EVENT` of `@nestjs/microservices`. */
const EVENT_HANDLER = 2;

/** The kind of `handler`, by the decorators on it. */
export function handlerKind(handler: Handler): HandlerKind {
  if (Reflect.getMetadata(PATH_METADATA, handler) !== undefined) return 'http';
  if (graphqlResolverType(handler) !== undefined) return 'graphql';
  const pattern = Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler);
  if (pattern !== undefined) return pattern === EVENT_HANDLER ? 'event' : 'message';
  if (Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler)) return 'websocket';
  return 'other';
}

/** What the interceptor needs to know of one decorated handler. */
export interface IdempotentRoute {
  /** HTTP route, GraphQL resolver, message or event handler. */
  kind: HandlerKind;
  /** Module options, then the class's `@Idempotent()`, then the method's, each option by itself. */
  options: ResolvedIdempotentOptions;
  /** `replayHeaders` in lower case. */
  replayHeaders: string[];
  /** The handler writes the response itself (`@Res()` or `@Next()` without `passthrough`). */
  writesOwnResponse: boolean;
  /** `Controller.method`, for messages. */
  name: string;
  /** The terms of its admissions (before a client's `Prefer: wait`), built once. */
  terms: AdmissionTerms;
}

/**
 * The `@Idempotent()` options of a handler, merged from its class and its
 * method (the method wins option by option); `null` when the handler is not
 * idempotent: undecorated, opted out with `@SkipIdempotency()`, or a
 * server-sent events route that only its class decorates.
 */
export function idempotentOptionsOf(reflector: Reflector, controller: Type, handler: Handler): IdempotentOptions | null {
  const onMethod = reflector.get<IdempotentOptions | false | undefined>(IDEMPOTENT_METADATA, handler);
  if (onMethod === false) return null;
  const onClass = reflector.get<IdempotentOptions | false | undefined>(IDEMPOTENT_METADATA, controller);
  if (!onMethod && (!onClass || !coveredByClass(handler))) return null;
  return resolveOptions<IdempotentOptions>({}, onClass || undefined, onMethod || undefined);
}

/**
 * Whether a class's `@Idempotent()` covers `handler`: not a server-sent
 * events route, nor a GraphQL field other than a mutation.
 */
function coveredByClass(handler: Handler): boolean {
  if (isServerSentEvents(handler)) return false;
  const resolverType = graphqlResolverType(handler);
  return resolverType === undefined || resolverType === 'Mutation';
}

/** `'Query'`, `'Mutation'`, `'Subscription'` or a field's parent type for a GraphQL resolver; else `undefined`. */
export function graphqlResolverType(handler: Handler): string | undefined {
  return Reflect.getMetadata(RESOLVER_TYPE_METADATA, handler);
}

/** Whether `handler` is an `@Sse()` route. */
export function isServerSentEvents(handler: Handler): boolean {
  return Reflect.getMetadata(SSE_METADATA, handler) === true;
}

/**
 * Resolves and caches the {@link IdempotentRoute} of each handler. Options
 * are validated on first resolution (at startup, by the explorer).
 */
export class IdempotentRoutes {
  private readonly routes = new WeakMap<Handler, IdempotentRoute | null>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleOptions: IdempotencyModuleOptions,
  ) {}

  /** The route of `handler` on `controller`, `null` when it is not idempotent. */
  get(controller: Type, handler: Handler): IdempotentRoute | null {
    let route = this.routes.get(handler);
    if (route === undefined) {
      route = this.resolve(controller, handler);
      this.routes.set(handler, route);
    }
    return route;
  }

  private resolve(controller: Type, handler: Handler): IdempotentRoute | null {
    const own = idempotentOptionsOf(this.reflector, controller, handler);
    if (!own) return null;
    const name = `${controller.name}.${handler.name}`;
    const kind = handlerKind(handler);
    const options = resolveOptions<ResolvedIdempotentOptions>(
      DEFAULT_IDEMPOTENT_OPTIONS,
      this.moduleOptions,
      validateRouteOptions(own, name),
    );
    // A redelivered message waits for its first delivery's outcome (the lease at most) unless told otherwise.
    if ((kind === 'message' || kind === 'event') && own.wait === undefined && this.moduleOptions.wait === undefined) {
      options.wait = options.lockTimeout;
    }
    const { ttl, lockTimeout, failOpen, wait, atomic } = options;
    return {
      kind,
      options,
      // Atomic duplicates wait in the database (a lock wait), not for an announcement.
      terms: { ttl, lockTimeout, failOpen, wait, atomic, announce: wait > 0 && !atomic, transport: kind === 'http' || kind === 'graphql' ? kind : 'rpc' },
      replayHeaders: options.replayHeaders.map((name) => name.toLowerCase()),
      writesOwnResponse: writesOwnResponse(controller, handler),
      name,
    };
  }
}

/** Mirrors Nest's router: `@Res()`/`@Next()` without `passthrough` means Nest sends nothing. */
function writesOwnResponse(controller: Type, handler: Handler): boolean {
  const args: Record<string, unknown> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {};
  const handled = Object.keys(args).some((key) => {
    const type = Number(key.split(':')[0]);
    return type === RouteParamtypes.RESPONSE || type === RouteParamtypes.NEXT;
  });
  return handled && !Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, handler.name);
}
