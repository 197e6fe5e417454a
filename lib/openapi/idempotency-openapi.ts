import { Inject, Injectable, RequestMethod, type Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { DEFAULT_IDEMPOTENT_OPTIONS, IDEMPOTENCY_KEY_HEADER } from '../idempotency.constants.js';
import { IDEMPOTENCY_OPTIONS } from '../idempotency.internal-constants.js';
import {
  handlerKind,
  idempotentOptionsOf,
  isServerSentEvents,
  type Handler,
  type ResolvedIdempotentOptions,
} from '../interceptors/idempotent-routes.js';
import type { IdempotencyModuleOptions, IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';
import { resolveOptions } from '../protocol/resolve-options.js';
import { keyHeaderParameter, problemResponses, REPLAYED_HEADERS, type IdempotentOperation } from './idempotency-operation.js';
import { documentHeader, documentResponses } from './swagger-metadata.js';

/**
 * Documents every idempotent HTTP route for `@nestjs/swagger`, with no
 * decorator of its own: the key header (its name from the module's `header`
 * option, required or not) and the 400, 409, 422 and 503 problem responses.
 * What the app declares itself with `@ApiHeader()` / `@ApiResponse()` (same
 * header name, same status) wins.
 *
 * It writes swagger's metadata while Nest instantiates the module (in
 * `NestFactory.create()` or `Test...compile()`), not in `onModuleInit`: apps
 * call `SwaggerModule.createDocument()` before `app.init()`. By then every
 * decorator has run (so the app's own declarations are known whatever their
 * order) and the module's options are resolved, `forRootAsync` included.
 * Swagger itself is never imported: without it the metadata is simply unread.
 */
@Injectable()
export class IdempotencyOpenApi {
  constructor(
    discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyModuleOptions,
  ) {
    for (const { metatype } of discovery.getControllers()) {
      if (metatype?.prototype) this.documentController(metatype as Type);
    }
  }

  private documentController(controller: Type): void {
    for (const name of this.scanner.getAllMethodNames(controller.prototype)) {
      const handler = controller.prototype[name] as Handler;
      if (handlerKind(handler) !== 'http' || isServerSentEvents(handler)) continue;
      const own = idempotentOptionsOf(this.reflector, controller, handler);
      if (own) this.documentRoute(controller, handler, this.operationOf(own));
    }
  }

  /** The route's options as the interceptor resolves them: defaults, then the module's, then the route's. */
  private operationOf(own: IdempotentOptions): IdempotentOperation {
    const options = resolveOptions<ResolvedIdempotentOptions>(DEFAULT_IDEMPOTENT_OPTIONS, this.options, own);
    return {
      header: this.options.header ?? IDEMPOTENCY_KEY_HEADER,
      keyInHeader: !options.key,
      required: options.required !== false,
      failsClosed: !options.failOpen || !!options.atomic,
    };
  }

  private documentRoute(controller: Type, handler: Handler, operation: IdempotentOperation): void {
    documentHeader(controller, handler, operation.keyInHeader ? keyHeaderParameter(operation.header, operation.required) : null);
    documentResponses(controller, handler, problemResponses(operation), { status: implicitStatus(handler), headers: REPLAYED_HEADERS });
  }
}

/** The success status swagger shows for a route without declared responses: `@HttpCode()`, else 201 for POST, else 200. */
function implicitStatus(handler: Handler): number {
  return Reflect.getMetadata(HTTP_CODE_METADATA, handler) ?? (Reflect.getMetadata(METHOD_METADATA, handler) === RequestMethod.POST ? 201 : 200);
}
