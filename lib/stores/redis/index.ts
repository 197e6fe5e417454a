/**
 * Subpath entry `nestjs-idempotency/redis`: the Redis store. It needs the
 * optional peer `ioredis` (5.x) only for the client the application passes in;
 * the core entry `nestjs-idempotency` never loads this folder.
 */
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './redis-idempotency.store.js';
