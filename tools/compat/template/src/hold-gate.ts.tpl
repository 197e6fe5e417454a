import { Injectable } from '@nestjs/common';

/**
 * Keeps handlers in flight until they are released: the barrier behind the
 * 409 probe (no sleeps). A handler calls `hold()`; `untilHeld()` resolves once
 * one is waiting; `release()` lets every waiting handler go on.
 */
@Injectable()
export class HoldGate {
  private readonly held: Array<() => void> = [];
  private readonly watchers: Array<() => void> = [];

  hold(): Promise<void> {
    return new Promise((resolve) => {
      this.held.push(resolve);
      this.watchers.splice(0).forEach((notify) => notify());
    });
  }

  untilHeld(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push(resolve));
  }

  /** Lets the held handlers go on; returns how many there were. */
  release(): number {
    const released = this.held.splice(0);
    released.forEach((resume) => resume());
    return released.length;
  }
}
