import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { IdempotencyKeyInFlightException } from './exceptions/idempotency-key-in-flight.exception.js';
import { IDEMPOTENCY_OPTIONS, MIN_LOCK_TIMEOUT } from './idempotency.internal-constants.js';
import { IdempotencyService } from './idempotency.service.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';

/** Scope of the records that mark which interval has been swept. */
export const SWEEPER_SCOPE = 'nestjs-idempotency:sweeper';

/**
 * Calls `purgeExpired()` every `sweepInterval` ms when that option is set.
 * Instances share the work through the protocol itself: each interval is a
 * key in {@link SWEEPER_SCOPE}, so only the instance that claims it purges.
 */
@Injectable()
export class IdempotencySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IdempotencySweeper');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly idempotency: IdempotencyService,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.options.sweepInterval;
    if (!interval) return;
    this.timer = setInterval(() => void this.sweep(interval), interval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * Purges for the interval `now` falls in, unless another instance did or does.
   * @returns how many records this call deleted, or `null` when it left the interval to another instance.
   */
  async sweep(interval: number, now = Date.now()): Promise<number | null> {
    const slot = String(Math.floor(now / interval));
    let purged: number | null = null;
    try {
      await this.idempotency.execute(slot, async () => (purged = await this.idempotency.purgeExpired()), {
        scope: SWEEPER_SCOPE,
        ttl: 2 * interval,
        lockTimeout: Math.max(interval, MIN_LOCK_TIMEOUT),
        failOpen: false,
      });
    } catch (error) {
      if (!(error instanceof IdempotencyKeyInFlightException)) this.logger.warn(`Sweep failed: ${String(error)}`);
    }
    return purged;
  }
}
