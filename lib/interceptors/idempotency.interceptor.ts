import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { from, mergeMap, type Observable } from 'rxjs';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency.constants.js';
import { IDEMPOTENCY_OPTIONS } from '../idempotency.internal-constants.js';
import { IdempotencyService } from '../idempotency.service.js';
import type { Admission } from '../protocol/admissions.js';
import { BodyNotFingerprintableException } from '../exceptions/body-not-fingerprintable.exception.js';
import { IdempotencyKeyMissingException } from '../exceptions/idempotency-key-missing.exception.js';
import { PrincipalUnresolvedException } from '../exceptions/principal-unresolved.exception.js';
import { headerValues, parseIdempotencyKey } from '../http/idempotency-key.js';
import { IdempotentRoutes, type Handler, type IdempotentRoute } from './idempotent-routes.js';
import { preferredWait } from '../http/prefer-wait.js';
import { requestFingerprint } from '../http/request-fingerprint.js';
import { defaultPrincipal } from '../http/request-principal.js';
import { protectHttpRoute } from '../http/http-protection.js';
import type { IdempotencyModuleOptions, IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';
import { protectHandler } from './handler-protection.js';
import { HandlerTransports } from './handler-transports.js';
import { optionOr, readerOf, type InvocationReader } from './invocation-reader.js';

/** Marks a request an idempotency interceptor has taken, so a second one stands aside. */
const TAKEN = Symbol.for('nestjs-idempotency:taken');

/**
 * Applies the idempotency protocol to handlers marked `@Idempotent()`: claims
 * the key, runs the handler, and stores its outcome before it leaves;
 * replays it to retries. Over HTTP the outcome is the response the client
 * gets (the bytes on the wire, after every interceptor, serializer and
 * exception filter); on a GraphQL mutation or a message handler, the values
 * it returns (see `handler-protection.ts`). Registered globally by
 * `IdempotencyModule`, and run by `@Idempotent()`'s own interceptor where no
 * global interceptor reaches (a microservice without `inheritAppConfig`).
 *
 * To customise HTTP routes, extend it, override the `protected` methods
 * (`getKey`, `getScope`, `getPrincipal`, `getFingerprint`) and pass the
 * class as the module's `interceptor` option: it then replaces this one.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  protected readonly logger = new Logger('Idempotency');
  private readonly routes: IdempotentRoutes;
  private readonly warned = new Set<string>();
  private readonly transports: HandlerTransports;
  private readonly httpReader: InvocationReader = {
    input: (context) => context.switchToHttp().getRequest().body,
    key: (context) => this.getKey(context),
    scope: (context, options) => this.getScope(context, options),
    principal: (context, options) => this.getPrincipal(context, options),
    fingerprint: (context, options) => this.getFingerprint(context, options),
    wait: (context, cap) => preferredWait(context.switchToHttp().getRequest().headers.prefer, cap),
  };

  constructor(
    protected readonly reflector: Reflector,
    protected readonly idempotency: IdempotencyService,
    @Inject(IDEMPOTENCY_OPTIONS) protected readonly options: IdempotencyModuleOptions,
    protected readonly adapterHost: HttpAdapterHost,
  ) {
    this.routes = new IdempotentRoutes(reflector, options);
    this.transports = new HandlerTransports(options, (id, message) => this.warnOnce(id, message, 'error'));
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.interceptOnce(context, next, true);
  }

  /**
   * Applies the protocol unless an idempotency interceptor already took this
   * invocation; `loud` warns when one had (two registered interceptors).
   * @internal run by the interceptor `@Idempotent()` attaches.
   */
  interceptOnce(context: ExecutionContext, next: CallHandler, loud = false): Observable<unknown> {
    const route = this.routes.get(context.getClass(), context.getHandler() as Handler);
    if (!route) return next.handle();
    const type = context.getType<string>();
    const invocation = type === 'http' ? context.switchToHttp().getRequest() : context.getArgs();
    if (invocation[TAKEN]) {
      if (loud) this.warnOnce('second', 'A second idempotency interceptor saw a request and stood aside: register one (IdempotencyModule.forRoot, once; customise with its `interceptor` option).');
      return next.handle();
    }
    if (type !== 'http' && !this.transports.supports(type)) {
      this.warnOnce(`${route.name}:${type}`, `@Idempotent() on ${route.name} has no effect: "${type}" handlers are not supported.`, 'error');
      return next.handle();
    }
    invocation[TAKEN] = true;
    return type === 'http' ? this.protect(context, next, route) : this.protectHandler(context, next, route, type);
  }

  /**
   * The idempotency key of the request, `undefined` when there is none.
   * @throws InvalidIdempotencyKeyException for an unusable key.
   */
  protected getKey(context: ExecutionContext): string | undefined {
    const request = context.switchToHttp().getRequest();
    const rawHeaders: string[] = (request.raw ?? request).rawHeaders ?? [];
    return parseIdempotencyKey(this.headerName, headerValues(rawHeaders, this.headerName));
  }

  /** The namespace of the key: the `scope` option, else `'<METHOD> <route pattern>'`. */
  protected getScope(context: ExecutionContext, options: IdempotentOptions): string {
    return optionOr(options.scope, context, () => {
      const request = context.switchToHttp().getRequest();
      const pattern: string = request.route?.path ?? request.routeOptions?.url ?? pathOf(request);
      return `${request.method} ${pattern}`;
    });
  }

  /**
   * Who owns the key: the `principal` option, else the first of `req.user.id`,
   * `sub`, `userId`, `_id`; `undefined` for an anonymous request.
   * @throws PrincipalUnresolvedException for an authenticated request without any of them.
   */
  protected getPrincipal(context: ExecutionContext, options: IdempotentOptions): string | undefined {
    return optionOr(options.principal, context, () => defaultPrincipal(context.switchToHttp().getRequest()));
  }

  /**
   * Identity of the request checked on replay; `''` when the check is off.
   * @throws BodyNotFingerprintableException for a body no parser has read.
   */
  protected getFingerprint(context: ExecutionContext, options: IdempotentOptions): string {
    if (options.fingerprint === false) return '';
    if (typeof options.fingerprint === 'function') return options.fingerprint(context);
    const request = context.switchToHttp().getRequest();
    const { method, query, headers, body, rawBody, file, files } = request;
    return requestFingerprint({ method, path: pathOf(request), query, headers, body, rawBody, file, files });
  }

  private get headerName(): string {
    return this.options.header ?? IDEMPOTENCY_KEY_HEADER;
  }

  /** An HTTP route: see `http/http-protection.ts`. */
  private protect(context: ExecutionContext, next: CallHandler, route: IdempotentRoute): Observable<unknown> {
    return protectHttpRoute({
      context,
      route,
      adapter: this.adapterHost.httpAdapter,
      admit: () => this.admit(context, route, this.httpReader),
      handle: (admission) => this.idempotency.inTransaction(admission, () => next.handle()),
    });
  }

  /**
   * A GraphQL mutation or a message handler, through the adapter of its
   * transport (loaded on first use).
   */
  private protectHandler(context: ExecutionContext, next: CallHandler, route: IdempotentRoute, type: string): Observable<unknown> {
    return from(this.transports.get(type)).pipe(
      mergeMap((transport) =>
        protectHandler({
          context,
          transport,
          event: route.kind === 'event',
          admit: () => this.admit(context, route, readerOf(transport, this.headerName)),
          handle: () => next.handle(),
        }),
      ),
    );
  }

  /** Reads the invocation's identity with `reader` and admits it. */
  private async admit(context: ExecutionContext, route: IdempotentRoute, reader: InvocationReader): Promise<Admission> {
    const { options } = route;
    const key = options.key ? options.key(reader.input(context), context) : reader.key(context);
    if (key === undefined) {
      if (options.required) throw new IdempotencyKeyMissingException(this.headerName, reader.keySource);
      return { kind: 'run', lease: null };
    }
    try {
      const request = {
        scope: reader.scope(context, options),
        principal: reader.principal(context, options) ?? '',
        key,
        fingerprint: reader.fingerprint(context, options),
      };
      const wait = reader.wait(context, options.wait);
      return await this.idempotency.admit(request, wait === options.wait ? route.terms : { ...route.terms, wait });
    } catch (error) {
      this.explain(route, error);
      throw error;
    }
  }

  /** Logs the server-side fix for a refusal caused by the app's configuration, once per route. */
  private explain(route: IdempotentRoute, error: unknown): void {
    if (error instanceof PrincipalUnresolvedException) {
      this.warnOnce(`${route.name}:principal`, `${route.name}: the request is authenticated, but no user id was found (req.user.id, sub, userId, _id): it was refused with 500. Set the \`principal\` option, e.g. principal: (ctx) => ctx.switchToHttp().getRequest().user.email.`, 'error');
    } else if (error instanceof BodyNotFingerprintableException) {
      this.warnOnce(`${route.name}:${error.mediaType}`, `${route.name}: a ${error.mediaType} body reached @Idempotent() unparsed, so it was refused with 415. Parse it before the interceptor (app.useBodyParser(...), or middleware), or set the \`fingerprint\` option.`);
    }
  }

  private warnOnce(id: string, message: string, level: 'warn' | 'error' = 'warn'): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.logger[level](message);
  }
}

/** The request path without its query string (Express: `originalUrl`, Fastify: `url`). */
function pathOf(request: { originalUrl?: string; url: string }): string {
  const url = request.originalUrl ?? request.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
