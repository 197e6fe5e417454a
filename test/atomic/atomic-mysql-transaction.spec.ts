import { describe, expect, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import type { ClaimRequest } from '../../lib/index.js';
import { buildMysqlStatements } from '../../lib/stores/typeorm/mysql/mysql-statements.js';
import { MysqlTransaction } from '../../lib/stores/typeorm/mysql/mysql-transaction.js';

// What a MysqlTransaction decides on the errors InnoDB answers a claim with,
// which a real server gives only in races a test cannot stage every time:
// a deadlock of a transaction of its own (nothing precedes the claim in it),
// and a savepoint the server dropped with the whole transaction.

const DEADLOCK = 1213;
const LOCK_WAIT_TIMEOUT = 1205;
const NO_SUCH_SAVEPOINT = 1305;

const serverError = (errno: number) => Object.assign(new Error(`server error ${errno}`), { errno });
const REQUEST: ClaimRequest = { scope: 's', principal: '', key: 'k', fingerprint: '', token: 'mine', lockTimeout: 60_000 };
const CLAIMED_ROW = { fingerprint: '', status: 'processing', token: 'mine', expires_in_ms: 60_000, response_status: null, response_headers: null, response_body: null };

/** The first two words of each statement sent (savepoints without their number), and the connection that answers them by `answer` (rows, or an Error to fail with). */
function scriptedServer(answer: (statement: string, attempt: number) => unknown) {
  const sent: string[] = [];
  const connection = {
    query({ sql }: { sql: string }, callback: (error: Error | null, result?: unknown) => void) {
      const statement = sql.trim().split(/\s+/).slice(0, 2).join(' ').replace(/_\d+$/, '');
      sent.push(statement);
      const result = answer(statement, sent.filter((s) => s === statement).length);
      setImmediate(() => (result instanceof Error ? callback(result) : callback(null, result ?? [])));
    },
  };
  const runner = {
    released: 0,
    isTransactionActive: false,
    transactionDepth: 0,
    manager: {} as EntityManager,
    connect: async () => connection,
    release: async () => void runner.released++,
  };
  const dataSource = { createQueryRunner: () => runner, options: { type: 'mariadb' } } as unknown as DataSource;
  const joined = { queryRunner: { ...runner, isTransactionActive: true }, connection: dataSource } as unknown as EntityManager;
  const claims = { statements: buildMysqlStatements('idempotency_records'), returning: async () => true };
  return { sent, runner, open: (join?: EntityManager) => MysqlTransaction.open(dataSource, claims, join), joined };
}

describe('MysqlTransaction on the errors of a claim', () => {
  it('begins a transaction of its own again and claims again after a deadlock (InnoDB rolled the first back whole)', async () => {
    const server = scriptedServer((statement, attempt) => (statement !== 'SET STATEMENT' ? [] : attempt === 1 ? serverError(DEADLOCK) : [CLAIMED_ROW]));
    const transaction = await server.open();
    expect(await transaction.claim(REQUEST, 0)).toEqual({ claimed: true });
    expect(server.sent).toEqual(['START TRANSACTION', 'SET STATEMENT', 'START TRANSACTION', 'SET STATEMENT']);
  });

  it('gives up after five deadlocks with the server’s error, and releases the connection on rollback', async () => {
    const server = scriptedServer((statement) => (statement === 'SET STATEMENT' ? serverError(DEADLOCK) : []));
    const transaction = await server.open();
    await expect(transaction.claim(REQUEST, 0)).rejects.toMatchObject({ errno: DEADLOCK });
    expect(server.sent.filter((s) => s === 'SET STATEMENT')).toHaveLength(5);
    await transaction.rollback();
    expect(server.runner.released).toBe(1);
  });

  it('passes a joined caller the deadlock at once: its transaction is gone, so nothing is claimed again or rolled back to', async () => {
    const server = scriptedServer((statement) => (statement === 'SET STATEMENT' ? serverError(DEADLOCK) : []));
    const transaction = await server.open(server.joined);
    await expect(transaction.claim(REQUEST, 0)).rejects.toMatchObject({ errno: DEADLOCK });
    await transaction.rollback();
    expect(server.sent).toEqual(['SAVEPOINT nestjs_idempotency', 'SET STATEMENT']);
    expect(server.runner.released).toBe(0); // the caller's connection
  });

  it('answers a joined claim whose lock wait ran out as in flight, rolled back to its savepoint', async () => {
    const server = scriptedServer((statement) => (statement === 'SET STATEMENT' ? serverError(LOCK_WAIT_TIMEOUT) : []));
    const transaction = await server.open(server.joined);
    expect(await transaction.claim(REQUEST, 0)).toMatchObject({ claimed: false, existing: { status: 'processing' } });
    await transaction.rollback();
    expect(server.sent).toEqual(['SAVEPOINT nestjs_idempotency', 'SET STATEMENT', 'ROLLBACK TO']);
  });

  it('throws the lock wait timeout to a joined caller whose whole transaction the server rolled back (innodb_rollback_on_timeout)', async () => {
    const server = scriptedServer((statement) =>
      statement === 'SET STATEMENT' ? serverError(LOCK_WAIT_TIMEOUT) : statement === 'ROLLBACK TO' ? serverError(NO_SUCH_SAVEPOINT) : [],
    );
    const transaction = await server.open(server.joined);
    await expect(transaction.claim(REQUEST, 0)).rejects.toMatchObject({ errno: LOCK_WAIT_TIMEOUT });
  });
});
