import { Injectable } from '@nestjs/common';
import { IdempotencySweeper } from '../../../lib/index.js';

/** One call of the sweeper's timer: the interval it fell in, and what it purged (`null`: left to another instance). */
export interface SweepEntry {
  slot: number;
  purged: number | null;
}

/** Records every sweep of this instance's `IdempotencySweeper`, for `GET /sweeps`. */
@Injectable()
export class SweepLog {
  readonly entries: SweepEntry[] = [];

  constructor(private readonly sweeper: IdempotencySweeper) {
    const sweep = sweeper.sweep.bind(sweeper);
    sweeper.sweep = async (interval: number, now = Date.now()) => {
      const purged = await sweep(interval, now);
      this.entries.push({ slot: Math.floor(now / interval), purged });
      return purged;
    };
  }
}
