import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Observable, type Subscription } from 'rxjs';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency.constants.js';
import { IDEMPOTENCY_OPTIONS, TRANSACTION_MANAGER } from '../idempotency.internal-constants.js';
import { IdempotencyService } from '../idempotency.service.js';
import type { Admission } from '../protocol/admissions.js';
import { BodyNotFingerprintableException } from '../exceptions/body-not-fingerprintable.exception.js';
import { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { IdempotencyKeyMissingException } from '../exceptions/idempotency-key-missing.exception.js';
import { PrincipalUnresolvedException } from '../exceptions/principal-unresolved.exception.js';
import { headerValues, parseIdempotencyKey } from '../http/idempotency-key.js';
import { IdempotentRoutes, type Handler, type IdempotentRoute } from '../http/idempotent-routes.js';
import { preferredWait } from '../http/prefer-wait.js';
import { requestFingerprint } from '../http/request-fingerprint.js';
import { defaultPrincipal } from '../http/request-principal.js';
import { isInDoubt, recordOutcome, replayResponse, type RunState } from '../http/response-outcome.js';
import type { IdempotencyModuleOptions, IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';
import type { Lease } from '../protocol/idempotency-lease.js';

/** Marks a request an idempotency interceptor has taken, so a second one stands aside. */
const TAKEN = Symbol.for('nestjs-idempotency:taken');

/**
 * Applies the idempotency protocol to routes marked `@Idempotent()`: claims
 * the key, runs the handler, and stores the response the client gets (the
 * bytes on the wire, after every interceptor, serializer and exception
 * filter) before it leaves; replays those bytes to retries. Registered
 * globally by `IdempotencyModule`.
 *
 * To customise, extend it, override the `protected` methods (`getKey`,
 * `getScope`, `getPrincipal`, `getFingerprint`) and pass the class as the
 * module's `interceptor` option: it then replaces this one.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  protected readonly logger = new Logger('Idempotency');
  private readonly routes: IdempotentRoutes;
  private readonly warned = new Set<string>();

  constructor(
    protected readonly reflector: Reflector,
    protected readonly idempotency: IdempotencyService,
    @Inject(IDEMPOTENCY_OPTIONS) protected readonly options: IdempotencyModuleOptions,
    protected readonly adapterHost: HttpAdapterHost,
  ) {
    this.routes = new IdempotentRoutes(reflector, options);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const route = this.routes.get(context.getClass(), context.getHandler() as Handler);
    if (!route) return next.handle();
    if (context.getType() !== 'http') {
      this.warnOnce(`${route.name}:${context.getType()}`, `@Idempotent() on ${route.name} has no effect: "${context.getType()}" handlers are not supported yet, only HTTP routes.`);
      return next.handle();
    }
    const request = context.switchToHttp().getRequest();
    if (request[TAKEN]) {
      this.warnOnce('second', 'A second idempotency interceptor saw a request and stood aside: register one (IdempotencyModule.forRoot, once; customise with its `interceptor` option).');
      return next.handle();
    }
    request[TAKEN] = true;
    return this.protect(context, next, route);
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
    if (typeof options.scope === 'function') return options.scope(context);
    if (options.scope !== undefined) return options.scope;
    const request = context.switchToHttp().getRequest();
    const pattern: string = request.route?.path ?? request.routeOptions?.url ?? pathOf(request);
    return `${request.method} ${pattern}`;
  }

  /**
   * Who owns the key: the `principal` option, else the first of `req.user.id`,
   * `sub`, `userId`, `_id`; `undefined` for an anonymous request.
   * @throws PrincipalUnresolvedException for an authenticated request without any of them.
   */
  protected getPrincipal(context: ExecutionContext, options: IdempotentOptions): string | undefined {
    if (typeof options.principal === 'function') return options.principal(context);
    if (options.principal !== undefined) return options.principal;
    return defaultPrincipal(context.switchToHttp().getRequest());
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

  /**
   * Admits the request, then replays, or runs the handler under its lease. An
   * unsubscribe before the handler ran releases the key; during the run, it
   * leaves the outcome in doubt.
   */
  private protect(context: ExecutionContext, next: CallHandler, route: IdempotentRoute): Observable<unknown> {
    const response = context.switchToHttp().getResponse();
    return new Observable((subscriber) => {
      let run: Subscription | undefined;
      let lease: Lease | null = null;
      const state: RunState = { finished: false, inDoubt: false };
      this.admit(context, route).then(
        (admission) => {
          if (admission.kind === 'replay') {
            this.adapterHost.httpAdapter.status(response, admission.response.status);
            replayResponse(rawResponseOf(response), route, admission.response);
            subscriber.next(undefined);
            return subscriber.complete();
          }
          lease = admission.lease;
          if (subscriber.closed) return void lease?.release(); // torn down before the handler ran
          if (admission.manager) context.switchToHttp().getRequest()[TRANSACTION_MANAGER] = admission.manager;
          if (lease) recordOutcome(rawResponseOf(response), route, lease, state);
          let handled: Observable<unknown>;
          try {
            handled = this.idempotency.inTransaction(admission, () => next.handle());
          } catch (error) {
            state.finished = true; // e.g. a transactionContext that refused: answered as an error, which releases the key
            return subscriber.error(error);
          }
          run = handled.subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => {
              state.finished = true;
              if (isInDoubt(error)) state.inDoubt = true;
              subscriber.error(error);
            },
            complete: () => {
              state.finished = true;
              subscriber.complete();
            },
          });
        },
        (error: unknown) => {
          if (error instanceof IdempotencyException) this.prepareProblemResponse(response, error);
          subscriber.error(error);
        },
      );
      return () => {
        run?.unsubscribe();
        if (run && !state.finished) {
          state.inDoubt = true; // client gone, outer timeout: the handler may still be running
          lease?.abandon();
        }
      };
    });
  }

  private async admit(context: ExecutionContext, route: IdempotentRoute): Promise<Admission> {
    const { options } = route;
    const key = this.getKey(context);
    if (key === undefined) {
      if (options.required) throw new IdempotencyKeyMissingException(this.headerName);
      return { kind: 'run', lease: null };
    }
    try {
      const request = {
        scope: this.getScope(context, options),
        principal: this.getPrincipal(context, options) ?? '',
        key,
        fingerprint: this.getFingerprint(context, options),
      };
      const wait = preferredWait(context.switchToHttp().getRequest().headers.prefer, options.wait);
      return await this.idempotency.admit(request, wait === options.wait ? route.terms : { ...route.terms, wait });
    } catch (error) {
      this.explain(route, error);
      throw error;
    }
  }

  private prepareProblemResponse(response: unknown, error: IdempotencyException): void {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'Content-Type', 'application/problem+json');
    if (error.retryAfterSeconds !== undefined) {
      adapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
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

/** Node's `ServerResponse` under an Express response or a Fastify reply. */
function rawResponseOf(response: unknown): ServerResponse {
  return ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
}

/** The request path without its query string (Express: `originalUrl`, Fastify: `url`). */
function pathOf(request: { originalUrl?: string; url: string }): string {
  const url = request.originalUrl ?? request.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
