import {
  HttpException,
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { catchError, defaultIfEmpty, last, mergeMap, of, throwError, type Observable } from 'rxjs';
import {
  DEFAULT_IDEMPOTENT_OPTIONS,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  type IdempotentDefaults,
} from '../idempotency.constants.js';
import { IDEMPOTENT_METADATA } from '../idempotency.internal-constants.js';
import { IDEMPOTENCY_MODULE_OPTIONS } from '../idempotency.module-definition.js';
import { IdempotencyService, type Admission } from '../idempotency.service.js';
import { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { IdempotencyKeyMissingException } from '../exceptions/idempotency-key-missing.exception.js';
import { headerValues, parseIdempotencyKey } from '../http/idempotency-key.js';
import { replayableHeaders, storableBody, type ResponseLike } from '../http/http-response.js';
import { requestFingerprint } from '../http/request-fingerprint.js';
import type { IdempotencyModuleOptions, IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';
import type { IdempotencyLease } from '../protocol/idempotency-lease.js';
import { resolveOptions } from '../protocol/resolve-options.js';
import { decodeStoredBody } from '../protocol/stored-body.js';
import type { StoredResponse } from '../interfaces/idempotency-store.interface.js';

/** Route options with every default filled in. */
export type ResolvedIdempotentOptions = IdempotentOptions & IdempotentDefaults;

/**
 * Applies the idempotency protocol to routes marked `@Idempotent()`: claims
 * the key, runs the handler, and stores its outcome before the response
 * leaves; replays a stored outcome to retries. Registered globally by
 * `IdempotencyModule`. Subclass it and override the `protected` methods to
 * read keys, scopes or principals differently.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly idempotency: IdempotencyService,
    @Inject(IDEMPOTENCY_MODULE_OPTIONS) protected readonly options: IdempotencyModuleOptions,
    protected readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Resolved options of each decorated route, by class and handler (`null`: not idempotent). */
  private readonly routes = new WeakMap<object, Map<object, ResolvedIdempotentOptions | null>>();

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const options = this.routeOptions(context);
    if (!options || context.getType() !== 'http') return next.handle();
    const response = context.switchToHttp().getResponse<ResponseLike>();
    let admission: Admission;
    try {
      admission = await this.admit(context, options);
    } catch (error) {
      if (error instanceof IdempotencyException) this.prepareProblemResponse(response, error);
      throw error;
    }
    if (admission.kind === 'replay') return this.replay(response, admission.response);
    return admission.lease ? this.run(next, admission.lease, response, options) : next.handle();
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

  /** Who owns the key: the `principal` option, else `req.user.id ?? req.user.sub`. */
  protected getPrincipal(context: ExecutionContext, options: IdempotentOptions): string | undefined {
    if (typeof options.principal === 'function') return options.principal(context);
    if (options.principal !== undefined) return options.principal;
    const user = context.switchToHttp().getRequest().user;
    const id = user?.id ?? user?.sub;
    return id === undefined || id === null ? undefined : String(id);
  }

  /** Identity of the request checked on replay; `''` when the check is off. */
  protected getFingerprint(context: ExecutionContext, options: IdempotentOptions): string {
    if (options.fingerprint === false) return '';
    if (typeof options.fingerprint === 'function') return options.fingerprint(context);
    const request = context.switchToHttp().getRequest();
    return requestFingerprint({ method: request.method, path: pathOf(request), query: request.query, body: request.body });
  }

  private routeOptions(context: ExecutionContext): ResolvedIdempotentOptions | null {
    const controller = context.getClass();
    const handler = context.getHandler();
    let handlers = this.routes.get(controller);
    if (!handlers) this.routes.set(controller, (handlers = new Map()));
    let options = handlers.get(handler);
    if (options === undefined) {
      const route = this.reflector.getAllAndOverride<IdempotentOptions | false | undefined>(IDEMPOTENT_METADATA, [
        handler,
        controller,
      ]);
      options = route ? resolveOptions<ResolvedIdempotentOptions>(DEFAULT_IDEMPOTENT_OPTIONS, this.options, route) : null;
      handlers.set(handler, options);
    }
    return options;
  }

  private get headerName(): string {
    return this.options.header ?? IDEMPOTENCY_KEY_HEADER;
  }

  private async admit(context: ExecutionContext, options: ResolvedIdempotentOptions): Promise<Admission> {
    const key = this.getKey(context);
    if (key === undefined) {
      if (options.required) throw new IdempotencyKeyMissingException(this.headerName);
      return { kind: 'run', lease: null };
    }
    const request = {
      scope: this.getScope(context, options),
      principal: this.getPrincipal(context, options) ?? '',
      key,
      fingerprint: this.getFingerprint(context, options),
    };
    return this.idempotency.admit(request, options);
  }

  /** Runs the handler; stores its outcome (or releases the key) before the value moves on. */
  private run(
    next: CallHandler,
    lease: IdempotencyLease,
    response: ResponseLike,
    options: ResolvedIdempotentOptions,
  ): Observable<unknown> {
    const outcome = (status: number, body: () => Buffer | null): Promise<void> =>
      options.cacheable(status)
        ? lease.complete({ status, headers: replayableHeaders(response, options.replayHeaders), body: body() })
        : lease.release();

    return next.handle().pipe(
      defaultIfEmpty(undefined),
      last(),
      mergeMap(async (value) => {
        await outcome(response.statusCode, () => storableBody(value, options.maxResponseBytes));
        return value;
      }),
      catchError(async (error: unknown) => {
        if (error instanceof HttpException) {
          await outcome(error.getStatus(), () => storableBody(error.getResponse(), options.maxResponseBytes));
        } else {
          await lease.release();
        }
        throw error;
      }),
    );
  }

  /** Sends a stored outcome: successes as the handler's value, errors through the exception layer. */
  private replay(response: ResponseLike, stored: StoredResponse): Observable<unknown> {
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(stored.headers)) adapter.setHeader(response, name, value);
    adapter.setHeader(response, IDEMPOTENT_REPLAYED_HEADER, 'true');
    const body = decodeStoredBody(stored.body as Buffer);
    if (stored.status >= 400) {
      return throwError(() => new HttpException(body as string | Record<string, unknown>, stored.status));
    }
    adapter.status(response, stored.status);
    return of(body);
  }

  private prepareProblemResponse(response: ResponseLike, error: IdempotencyException): void {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'Content-Type', 'application/problem+json');
    if (error.retryAfterSeconds !== undefined) {
      adapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
    }
  }
}

/** The request path without its query string (Express: `originalUrl`, Fastify: `url`). */
function pathOf(request: { originalUrl?: string; url: string }): string {
  const url = request.originalUrl ?? request.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
