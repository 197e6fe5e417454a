import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { TRANSACTION_MANAGER } from '../idempotency.internal-constants.js';

/** Reads the `EntityManager` the interceptor left on the request (see {@link TransactionManager}). */
export function transactionManagerOf(_: unknown, context: ExecutionContext): unknown {
  return context.switchToHttp().getRequest()[TRANSACTION_MANAGER];
}

/**
 * The TypeORM `EntityManager` of the request's transaction, on a route with
 * `@Idempotent({ atomic: true })` (checked at startup): what the handler
 * writes with commits together with the idempotency record, or not at all.
 * It is `undefined` when the request runs without a record (no key on a
 * `required: false` route).
 *
 * @example
 * @Post()
 * @Idempotent({ atomic: true })
 * create(@Body() dto: CreateOrderDto, @TransactionManager() manager: EntityManager) {
 *   return manager.save(Order, dto);
 * }
 */
export const TransactionManager = createParamDecorator(transactionManagerOf);
