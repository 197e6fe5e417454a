import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { buildStatements } from '../lib/stores/typeorm/postgres/postgres-statements.js';
import { IDEMPOTENCY_RECORDS_TABLE } from '../lib/index.js';
import { HAND_ROLLED_SQL } from './app/hand-rolled.store.js';
import { INSERT_ORDER_SQL } from './app/orders.repository.js';
import { openBenchDatabase } from './database.js';
import { postgresCpuMs } from './server-cpu.js';

/**
 * `node dist-bench/bench/statement-cost.js [iterations]`: server CPU per
 * statement of each SQL the benchmark's scenarios send, measured on the
 * PostgreSQL backend itself (/proc/<pid>/schedstat), one connection per
 * statement, the statements taking turns so that the machine's load hits
 * all alike. `prepared` rows send the same statement as a named prepared
 * statement (parsed and planned once per connection) for comparison.
 */
const lib = buildStatements(IDEMPOTENCY_RECORDS_TABLE);
const fingerprint = 'a'.repeat(64);
const body = '{"id":1,"item":"book","quantity":1,"createdAt":"2026-11-23T12:00:00.000Z"}';
/** Token of each claimed key, so that `complete` updates the row for real. */
const tokens = new Map<string, string>();
const token = (key: string) => {
  const value = randomUUID();
  tokens.set(key, value);
  return value;
};
const libClaim = (key: string, name?: string) => ({
  name,
  text: lib.claim.text,
  values: ['POST /orders', '', key, fingerprint, token(`library ${key}`), 60_000],
});
const handClaim = (key: string, name?: string) => ({ name, text: HAND_ROLLED_SQL.claim, values: [key, fingerprint, token(`hand ${key}`)] });

const STATEMENTS: Record<string, (i: number) => pg.QueryConfig> = {
  'baseline: insert the order': () => ({ text: INSERT_ORDER_SQL, values: ['book', 1] }),
  'library: claim, new key': (i) => libClaim(`new-${i}`),
  'library: claim, completed key (replay)': (i) => libClaim(`done-${i % 100}`),
  'library: complete': (i) => ({
    text: lib.complete.text,
    values: ['POST /orders', '', `new-${i}`, tokens.get(`library new-${i}`), 201, '{}', Buffer.from(body), 86_400_000],
  }),
  'hand-rolled: claim, new key': (i) => handClaim(`new-${i}`),
  'hand-rolled: claim, completed key (replay)': (i) => handClaim(`done-${i % 100}`),
  'hand-rolled: complete': (i) => ({ text: HAND_ROLLED_SQL.complete, values: [`new-${i}`, tokens.get(`hand new-${i}`), 201, body] }),
  'library: claim, new key, prepared': (i) => libClaim(`prepared-${i}`, 'library-claim'),
  'hand-rolled: claim, new key, prepared': (i) => handClaim(`prepared-${i}`, 'hand-rolled-claim'),
};
const WARMUP = 200;

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 2000);
  const database = await openBenchDatabase();
  const clients: { name: string; client: pg.Client; pid: number; cpuMs: number }[] = [];
  try {
    for (const name of Object.keys(STATEMENTS)) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      clients.push({ name, client, pid: (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, cpuMs: 0 });
    }
    // The replayed keys exist and are completed.
    for (let i = 0; i < 100; i++) {
      await clients[0].client.query(lib.claim.text, ['POST /orders', '', `done-${i}`, fingerprint, randomUUID(), 60_000]);
      await clients[0].client.query(HAND_ROLLED_SQL.claim, [`done-${i}`, fingerprint, randomUUID()]);
    }
    await clients[0].client.query(`UPDATE ${IDEMPOTENCY_RECORDS_TABLE} SET status = 'completed', response_status = 201`);
    await clients[0].client.query(`UPDATE hand_rolled_idempotency SET status = 'completed', response_status = 201`);

    for (let i = 0; i < WARMUP + iterations; i++) {
      for (const entry of clients) {
        // The claim of key i runs before its completion: entries keep the order of STATEMENTS.
        const before = (await postgresCpuMs([entry.pid]))?.get(entry.pid);
        const result = await entry.client.query(STATEMENTS[entry.name](i));
        if (entry.name.endsWith('complete') && result.rowCount !== 1) throw new Error(`${entry.name} updated no row`);
        const after = (await postgresCpuMs([entry.pid]))?.get(entry.pid);
        if (before === undefined || after === undefined) throw new Error('cannot read the server processes\' CPU time (/proc)');
        if (i >= WARMUP) entry.cpuMs += after - before;
      }
    }
    console.log('| statement | server CPU µs |\n|---|---:|');
    for (const { name, cpuMs } of clients) console.log(`| ${name} | ${((cpuMs * 1000) / iterations).toFixed(0)} |`);
  } finally {
    for (const { client } of clients) await client.end();
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
