/**
 * Subpath entry `nestjs-idempotency/cls`: atomic mode through
 * `@nestjs-cls/transactional`'s `TransactionHost`. It needs the optional peers
 * `nestjs-cls`, `@nestjs-cls/transactional` and
 * `@nestjs-cls/transactional-adapter-typeorm`; the core entry
 * `nestjs-idempotency` never loads this folder.
 */
export { ClsTransactionContext, type ClsTransactionContextOptions } from './cls-transaction-context.js';
