import type { ConfigService } from '@nestjs/config';
import type { IdempotencyModuleOptions } from '../../lib/index.js';
import { readMilliseconds } from './milliseconds.js';

/**
 * Options of `IdempotencyModule.forRootAsync()`, read from the environment.
 * An unset variable leaves the library's default (ttl 24 h, lockTimeout 60 s).
 * No `store`: records go to the default TypeORM DataSource.
 */
export function idempotencyOptions(config: ConfigService): IdempotencyModuleOptions {
  return {
    ttl: readMilliseconds(config, 'IDEMPOTENCY_TTL_MS'),
    lockTimeout: readMilliseconds(config, 'IDEMPOTENCY_LOCK_TIMEOUT_MS'),
    // The RabbitMQ consumer acknowledges by hand (noAck: false): the library then settles the duplicates it answers.
    rmq: { noAck: false },
  };
}
