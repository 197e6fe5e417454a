import type { Type } from '@nestjs/common';
import {
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

/** What the interceptor needs to know of one decorated handler. */
export interface IdempotentRoute {
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
  if (!onMethod && (!onClass || isServerSentEvents(handler))) return null;
  return resolveOptions<IdempotentOptions>({}, onClass || undefined, onMethod || undefined);
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
    const options = resolveOptions<ResolvedIdempotentOptions>(
      DEFAULT_IDEMPOTENT_OPTIONS,
      this.moduleOptions,
      validateRouteOptions(own, name),
    );
    const { ttl, lockTimeout, failOpen, wait, atomic } = options;
    return {
      options,
      // Atomic duplicates wait in the database (a lock wait), not for an announcement.
      terms: { ttl, lockTimeout, failOpen, wait, atomic, announce: wait > 0 && !atomic },
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
