import { Controller, Headers, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Idempotent, TransactionManager } from '../../../lib/index.js';
import type { EffectResponse } from '../support/messages.js';
import { IpcGate } from './ipc.js';

const WORKER = process.env.WORKER_NAME ?? 'worker';

/** How long a duplicate of `POST /atomic/effects` waits for the original's commit (a PostgreSQL lock wait). */
const ATOMIC_WAIT_MS = 20_000;

/**
 * The atomic route of the multi-instance tests (atomic-*.e2e.spec.ts), on the
 * PostgreSQL store only: atomic mode needs its transactions.
 */
@Controller('atomic')
export class AtomicEffectsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gate: IpcGate,
  ) {}

  /**
   * Claim, effect and completion in one transaction. Writes an `entered` row
   * on a connection of its own (committed at once: the witness that the
   * handler ran, which survives a crash), then the `effect` row with the
   * transaction's manager (committed with the record, or never). With
   * `X-Gate` it waits for the test after the `effect` row, before the COMMIT.
   */
  @Post('effects')
  @Idempotent({ scope: 'atomic-effects', atomic: true, wait: ATOMIC_WAIT_MS })
  async effect(
    @Headers('idempotency-key') key: string,
    @TransactionManager() manager: EntityManager,
    @Headers('x-gate') gated?: string,
  ): Promise<EffectResponse> {
    await this.dataSource.query("INSERT INTO side_effects (phase, key, principal, worker) VALUES ('entered', $1, '', $2)", [key, WORKER]);
    const [row] = await manager.query(
      "INSERT INTO side_effects (phase, key, principal, worker) VALUES ('effect', $1, '', $2) RETURNING id",
      [key, WORKER],
    );
    if (gated) await this.gate.pass(key);
    return { key, principal: '', worker: WORKER, pid: process.pid, effect: Number(row.id), nonce: randomUUID() };
  }
}
