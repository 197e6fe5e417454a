import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdempotencyStore } from '../../lib/index.js';
import { WAIT_ROUTE } from '../protocol.js';

/** How long an original holds for its duplicates before it goes on without them (and says so). */
const HOLD_LIMIT_MS = 10_000;

/** One round: how many duplicates it waits for, how many listen so far, and its two milestones. */
interface Round {
  duplicates: number;
  watching: number;
  entered: Milestone;
  allWatching: Milestone;
}

/** A promise and its `resolve` (`Promise.withResolvers()` needs Node 22). */
interface Milestone {
  promise: Promise<void>;
  resolve: () => void;
}

function milestone(): Milestone {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The app's side of the wait measurement (`library-wait*`): the orchestrator
 * arms a round, sends the original, learns that it runs its handler (so it
 * holds the key), then sends the duplicates. The original's handler holds
 * until every duplicate listens for its outcome (a watch opened on the store,
 * counted here), then takes `WAIT_ROUTE.handlerMs`: when it completes, all
 * of them are waiting, none is still on its way in.
 */
@Injectable()
export class WaitRounds implements OnModuleInit {
  private round?: Round;

  constructor(@Inject(IdempotencyStore) private readonly store: IdempotencyStore) {}

  /** Counts the watches the store opens (this instance only). */
  onModuleInit(): void {
    if (!this.store.watch) throw new Error(`${this.store.constructor.name} cannot wait (no watch()): no wait measurement on it`);
    const watch = this.store.watch.bind(this.store);
    this.store.watch = async (id) => {
      const opened = await watch(id);
      const round = this.round;
      if (round && ++round.watching >= round.duplicates) round.allWatching.resolve();
      return opened;
    };
  }

  /** Starts a round whose original holds until `duplicates` requests wait for it. */
  arm(duplicates: number): void {
    this.round = { duplicates, watching: 0, entered: milestone(), allWatching: milestone() };
  }

  /** Resolves once the original of the armed round runs its handler. */
  entered(): Promise<void> {
    if (!this.round) throw new Error('no wait round armed');
    return this.round.entered.promise;
  }

  /** The handler's wait: until the round's duplicates all listen (at most {@link HOLD_LIMIT_MS}), then its fixed work time. */
  async hold(): Promise<void> {
    const round = this.round;
    if (round) {
      round.entered.resolve();
      const limit = sleep(HOLD_LIMIT_MS, 'timeout' as const, { ref: false });
      if ((await Promise.race([round.allWatching.promise, limit])) === 'timeout') {
        console.warn(`wait round: only ${round.watching} of ${round.duplicates} duplicates waited after ${HOLD_LIMIT_MS} ms; going on`);
      }
    }
    await sleep(WAIT_ROUTE.handlerMs);
  }
}
