import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { IDEMPOTENCY_INTERCEPTOR } from '../idempotency.internal-constants.js';
import type { IdempotencyInterceptor } from './idempotency.interceptor.js';

/**
 * The interceptor `@Idempotent()` attaches to its handler, so that no
 * handler runs unprotected where the global interceptor does not reach: a
 * microservice attached with `connectMicroservice()` without
 * `inheritAppConfig` gets no global interceptor. It runs the module's
 * interceptor, which stands aside when the global one already took the
 * invocation. Without `IdempotencyModule`, the app does not start.
 */
@Injectable()
export class IdempotentHandlerInterceptor implements NestInterceptor, OnModuleInit {
  private interceptor!: IdempotencyInterceptor;

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    try {
      this.interceptor = this.moduleRef.get(IDEMPOTENCY_INTERCEPTOR, { strict: false });
    } catch {
      throw new IdempotencyConfigurationError(
        '@Idempotent() is used, but IdempotencyModule is not imported: add IdempotencyModule.forRoot() to the imports of your application module.',
      );
    }
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.interceptor.interceptOnce(context, next);
  }
}
