import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { IDEMPOTENT_METADATA } from '../idempotency.internal-constants.js';
import { IdempotentHandlerInterceptor } from '../interceptors/idempotent-handler.interceptor.js';
import type { IdempotentOptions } from '../interfaces/idempotency-module-options.interface.js';

/**
 * Makes a handler safe to retry: a request repeating an `Idempotency-Key`
 * gets the stored response instead of a second execution. On an HTTP route,
 * a GraphQL mutation, or a message handler (`@MessagePattern` replays its
 * reply, `@EventPattern` skips a duplicate). On a controller class it covers
 * every route; a method's own decorator wins over the class's. With
 * `@nestjs/swagger`, an HTTP route's OpenAPI operation documents the key
 * header and the 400, 409, 422 and 503 problem responses by itself (see
 * `openapi/idempotency-openapi.ts`).
 *
 * @example
 * @Post()
 * @Idempotent({ ttl: 86_400_000, scope: 'orders.create' })
 * create(@Body() dto: CreateOrderDto) { ... }
 */
export const Idempotent = (options: IdempotentOptions = {}) =>
  applyDecorators(SetMetadata(IDEMPOTENT_METADATA, options), UseInterceptors(IdempotentHandlerInterceptor));
