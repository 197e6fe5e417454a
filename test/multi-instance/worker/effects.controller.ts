import { Controller, Get, Headers, Post, Req } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { Idempotent } from '../../../lib/index.js';
import type { EffectResponse } from '../support/messages.js';
import { IpcGate } from './ipc.js';
import { SweepLog } from './sweep-log.js';

const WORKER = process.env.WORKER_NAME ?? 'worker';

/**
 * The routes the multi-instance tests drive. Every execution of a handler
 * writes its side effects to the shared `side_effects` table, and counts
 * itself in this process's memory (which survives a database outage).
 */
@Controller()
export class EffectsController {
  private readonly invocations: Record<string, number> = {};

  constructor(
    private readonly dataSource: DataSource,
    private readonly gate: IpcGate,
    private readonly sweepLog: SweepLog,
  ) {}

  /**
   * A protected side effect: writes an `entered` row, sleeps `X-Delay-Ms`,
   * writes the `effect` row and answers with it. With `X-Gate` the handler
   * waits for the test before the `effect` row (any value) or after it
   * (`after-effect`).
   */
  @Post('effects')
  @Idempotent({ scope: 'effects' })
  async effect(
    @Req() request: { user?: { id: string } },
    @Headers('idempotency-key') key: string,
    @Headers('x-gate') gated?: string,
    @Headers('x-delay-ms') delay?: string,
  ): Promise<EffectResponse> {
    this.count('effects');
    const principal = request.user?.id ?? '';
    await this.record('entered', key, principal);
    if (delay) await sleep(Number(delay));
    if (gated && gated !== 'after-effect') await this.pass(key);
    const effect = await this.record('effect', key, principal);
    if (gated === 'after-effect') await this.pass(key);
    return { key, principal, worker: WORKER, pid: process.pid, effect, nonce: randomUUID() };
  }

  /** A protected route with `failOpen`: runs even when the store is down. Touches no database. */
  @Post('fail-open')
  @Idempotent({ scope: 'fail-open', failOpen: true })
  failOpen(@Headers('idempotency-key') key: string) {
    return { key, worker: WORKER, invocation: this.count('fail-open') };
  }

  /** How often each handler ran in this process. Not idempotent; needs no database. */
  @Get('stats')
  stats() {
    return { worker: WORKER, pid: process.pid, invocations: this.invocations };
  }

  /** Every sweep of the interval sweeper in this process (when `SWEEP_INTERVAL_MS` is set). */
  @Get('sweeps')
  sweeps() {
    return this.sweepLog.entries;
  }

  private async pass(key: string): Promise<void> {
    if ((await this.gate.pass(key)) === 'throw') throw new Error(`handler of ${key} failed after its barrier`);
  }

  private count(route: string): number {
    return (this.invocations[route] = (this.invocations[route] ?? 0) + 1);
  }

  private async record(phase: 'entered' | 'effect', key: string, principal: string): Promise<number> {
    const [row] = await this.dataSource.query(
      'INSERT INTO side_effects (phase, key, principal, worker) VALUES ($1, $2, $3, $4) RETURNING id',
      [phase, key, principal, WORKER],
    );
    return Number(row.id);
  }
}
