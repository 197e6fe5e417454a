import { Controller, Get, Headers, Post, Req } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { Idempotent } from '../../../lib/index.js';
import type { EffectResponse, WorkerStats } from '../support/messages.js';
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
  private readonly invocationsByKey: Record<string, Record<string, number>> = {};

  constructor(
    private readonly dataSource: DataSource,
    private readonly gate: IpcGate,
    private readonly sweepLog: SweepLog,
  ) {}

  /**
   * A protected side effect: writes an `entered` row, sleeps `X-Delay-Ms`,
   * writes the `effect` row and answers with it. With `X-Gate` the handler
   * waits for the test before the `effect` row (any value) or after it
   * (`after-effect`). With `X-Hold-Ms` the statement that writes the `effect`
   * row also sleeps that long in PostgreSQL (`pg_sleep`), holding its pooled
   * connection like a slow query of the app.
   */
  @Post('effects')
  @Idempotent({ scope: 'effects' })
  async effect(
    @Req() request: { user?: { id: string } },
    @Headers('idempotency-key') key: string,
    @Headers('x-gate') gated?: string,
    @Headers('x-delay-ms') delay?: string,
    @Headers('x-hold-ms') hold?: string,
  ): Promise<EffectResponse> {
    this.count('effects', key);
    const principal = request.user?.id ?? '';
    await this.record('entered', key, principal);
    if (delay) await sleep(Number(delay));
    if (gated && gated !== 'after-effect') await this.pass(key);
    const effect = await this.record('effect', key, principal, hold ? Number(hold) : 0);
    if (gated === 'after-effect') await this.pass(key);
    return { key, principal, worker: WORKER, pid: process.pid, effect, nonce: randomUUID() };
  }

  /** A protected route with `failOpen`: runs even when the store is down. Touches no database. */
  @Post('fail-open')
  @Idempotent({ scope: 'fail-open', failOpen: true })
  failOpen(@Headers('idempotency-key') key: string) {
    return { key, worker: WORKER, invocation: this.count('fail-open', key) };
  }

  /** How often each handler ran in this process, in all and per key. Not idempotent; needs no database. */
  @Get('stats')
  stats(): WorkerStats {
    const { invocations, invocationsByKey } = this;
    return { worker: WORKER, pid: process.pid, invocations, invocationsByKey };
  }

  /** Every sweep of the interval sweeper in this process (when `SWEEP_INTERVAL_MS` is set). */
  @Get('sweeps')
  sweeps() {
    return this.sweepLog.entries;
  }

  private async pass(key: string): Promise<void> {
    if ((await this.gate.pass(key)) === 'throw') throw new Error(`handler of ${key} failed after its barrier`);
  }

  private count(route: string, key: string | undefined): number {
    const byKey = (this.invocationsByKey[route] ??= {});
    if (key !== undefined) byKey[key] = (byKey[key] ?? 0) + 1;
    return (this.invocations[route] = (this.invocations[route] ?? 0) + 1);
  }

  /** Writes a side-effect row; with `holdMs`, the statement first sleeps that long on its connection. */
  private async record(phase: 'entered' | 'effect', key: string, principal: string, holdMs = 0): Promise<number> {
    const [row] = holdMs
      ? await this.dataSource.query(
          `INSERT INTO side_effects (phase, key, principal, worker)
           SELECT $1, $2, $3, $4 FROM pg_sleep($5::float8 / 1000) RETURNING id`,
          [phase, key, principal, WORKER, holdMs],
        )
      : await this.dataSource.query(
          'INSERT INTO side_effects (phase, key, principal, worker) VALUES ($1, $2, $3, $4) RETURNING id',
          [phase, key, principal, WORKER],
        );
    return Number(row.id);
  }
}
