import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { openSqlite, sqliteDirectory, walFileOptions } from '../support/sqlite-databases.js';
import type { SqliteClaimerMessage, SqliteClaimOrder } from './worker/sqlite-claimer.js';

const ENTRY = fileURLToPath(new URL('./worker/sqlite-claimer.ts', import.meta.url));
const REGISTER_TS = new URL('./support/register-ts.mjs', import.meta.url).href;
const PROCESSES = 4;
const KEYS = Array.from({ length: 300 }, (_, i) => `storm-${i}`);

type Claimed = Extract<SqliteClaimerMessage, { type: 'claimed' }>;

/** One claiming process with its own better-sqlite3 connection to the file. */
class Claimer {
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(name: string, file: string): Promise<Claimer> {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', REGISTER_TS],
      env: { ...process.env, WORKER_NAME: name, SQLITE_FILE: file },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const claimer = new Claimer(name, child);
    await claimer.next('ready');
    return claimer;
  }

  /** Sends the order; resolve the answer with {@link next} (wait for every process's before reading any). */
  order(order: SqliteClaimOrder): Promise<Claimed> {
    const answer = this.next('claimed') as Promise<Claimed>;
    this.child.send(order);
    return answer;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'exit' });
    await exited;
  }

  private next(type: SqliteClaimerMessage['type']): Promise<SqliteClaimerMessage> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`claimer ${this.name} exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (message: SqliteClaimerMessage) => {
        this.child.off('exit', onExit);
        if (message.type === 'failed') reject(new Error(`claimer ${this.name} failed: ${message.error}`));
        else if (message.type !== type) reject(new Error(`claimer ${this.name} sent ${message.type}, expected ${type}`));
        else resolve(message);
      });
    });
  }
}

/**
 * Several processes, each with its own connection to one better-sqlite3 file
 * in WAL mode, claim the same keys at the same moment: every process is
 * connected before the test sends the order to all of them, and each sends
 * its claims at once. Their writes meet inside SQLite, which lets one writer
 * in at a time and makes the others wait (busy timeout).
 */
describe(`multi-process: ${PROCESSES} processes claim the same ${KEYS.length} keys in one SQLite file (WAL)`, () => {
  let directory: Awaited<ReturnType<typeof sqliteDirectory>>;
  let dataSource: DataSource;
  let claimers: Claimer[];

  beforeAll(async () => {
    directory = await sqliteDirectory();
    const file = directory.file('storm.sqlite');
    dataSource = await openSqlite(walFileOptions(file), 'migration');
    claimers = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => Claimer.start(`p${i}`, file)));
    // Warm up (statements prepared, code compiled) on keys of their own, so no process starts the storm late.
    await Promise.all(claimers.map((claimer) => claimer.order({ type: 'claim', keys: [`warm-up-${claimer.name}`], lockTimeout: 0 })));
    await dataSource.query('DELETE FROM idempotency_records');
  }, 60_000);

  afterAll(async () => {
    await Promise.all((claimers ?? []).map((claimer) => claimer.stop()));
    await dataSource?.destroy();
    await directory?.remove();
  });

  /** Orders every process to claim all keys; per key, the processes that won it, and what the losers saw. */
  const storm = async (lockTimeout: number) => {
    const answers = await Promise.all(claimers.map((claimer) => claimer.order({ type: 'claim', keys: KEYS, lockTimeout })));
    const winners = new Map<string, string[]>();
    answers.forEach((answer, i) => answer.won.forEach((key) => winners.set(key, [...(winners.get(key) ?? []), claimers[i].name])));
    const losersSaw = new Set(
      answers.flatMap((answer) =>
        answer.lost.map(({ key, status, fingerprint }) => {
          const ofWinner = fingerprint === winners.get(key)?.[0];
          return `${status} ${ofWinner ? 'of the winner' : fingerprint}`;
        }),
      ),
    );
    return { winners, losersSaw };
  };

  it('claims every key exactly once; every other claim sees the winner processing it', async () => {
    const { winners, losersSaw } = await storm(60_000);
    expect(KEYS.filter((key) => winners.get(key)?.length !== 1)).toEqual([]);
    expect(losersSaw).toEqual(new Set(['processing of the winner']));
    expect(await dataSource.query(`SELECT count(*) AS n FROM idempotency_records`)).toEqual([{ n: KEYS.length }]);
  });

  it('takes over every expired key exactly once', async () => {
    const past = '2000-01-01 00:00:00.000';
    await dataSource.query(`UPDATE idempotency_records SET fingerprint = 'crashed', expires_at = ?, locked_until = ?`, [past, past]);
    const { winners, losersSaw } = await storm(60_000);
    expect(KEYS.filter((key) => winners.get(key)?.length !== 1)).toEqual([]);
    expect(losersSaw).toEqual(new Set(['processing of the winner']));
    expect(await dataSource.query(`SELECT count(*) AS n FROM idempotency_records WHERE fingerprint = 'crashed'`)).toEqual([{ n: 0 }]);
  });
});
