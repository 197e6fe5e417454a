import { AppProcess } from './app-process.js';
import { withApplicationName, type BenchDatabase } from './database.js';
import { ORDER_BODY } from './load.js';
import { percentile } from './metrics.js';
import { applicationName, ownStoreOf, type StoreServers } from './scenario-runner.js';
import type { WaitMeasurement } from './scenarios.js';

/** Duplicates per round (issue 8: "50 concurrent waiting duplicates"). */
export const WAIT_DUPLICATES = 50;

/** Unmeasured rounds first: the store's listening connection opens, the app's code warms up. */
const WARMUP_ROUNDS = 2;

/** Failures kept as examples in the result (all are counted). */
const FAILURE_EXAMPLES = 10;

/** What a wait measurement saw, as printed and written to JSON. */
export interface WaitLatencyResult {
  name: string;
  summary: string;
  /** Measured rounds (after {@link WARMUP_ROUNDS} unmeasured ones). */
  rounds: number;
  duplicatesPerRound: number;
  /**
   * When each duplicate's response arrived after the original's response, in
   * ms (body read in full, every duplicate of the measured rounds, whatever
   * its answer): how long waiters take to be answered once the outcome is out.
   */
  afterOriginalMs: { p50: number; p99: number; max: number; min: number };
  /**
   * For comparison: as many requests with the key, once completed, sent at
   * once after each round (nothing to wait for), in ms from sending them to
   * each answer. Unlike the waiting duplicates, these are yet to be received,
   * parsed and admitted: what answering that many plain replays costs the app.
   */
  replayBurstMs: { p50: number; p99: number };
  /** Duplicates answered 201 with `Idempotent-Replayed: true` and the original's exact body. */
  replayed: number;
  /** Answers that were not as expected (duplicates, replays of the burst, or an original not answered 201). */
  failures: number;
  /** The first of those, e.g. `round 3 duplicate: 409`. */
  failureExamples: string[];
}

/** One response, and when its body had fully arrived (`performance.now()`). */
interface Answer {
  status: number;
  replayed: boolean;
  body: string;
  at: number;
}

/**
 * Measures `measurement` on an app of its own: per round, an original with
 * a new key, held by the app in its handler (wait-rounds.ts) until
 * {@link WAIT_DUPLICATES} duplicates sent once it holds the key all wait for
 * it, then `WAIT_ROUTE.handlerMs` of work and its insert; records the arrival
 * of the original's response and of each duplicate's. Rounds run one at a time.
 */
export async function measureWaitLatency(
  measurement: WaitMeasurement,
  database: BenchDatabase,
  pool: number,
  servers: StoreServers,
  rounds: number,
): Promise<WaitLatencyResult> {
  const store = await ownStoreOf(measurement, servers);
  const url = withApplicationName(database.url, applicationName(measurement));
  const app = await AppProcess.start(measurement.mode, url, pool, store?.env);
  const latencies = new Float64Array(rounds * WAIT_DUPLICATES);
  const burstLatencies = new Float64Array(rounds * WAIT_DUPLICATES);
  const failures: string[] = [];
  let replayed = 0;
  try {
    await database.reset();
    await store?.clear();
    for (let round = -WARMUP_ROUNDS; round < rounds; round++) {
      const { original, duplicates, burst } = await waitRound(app, `${measurement.name}-${round + WARMUP_ROUNDS}`);
      if (round < 0) continue;
      if (original.status !== 201 || original.replayed) failures.push(`round ${round + 1} original: ${describe(original)}`);
      duplicates.forEach((duplicate, i) => {
        latencies[round * WAIT_DUPLICATES + i] = duplicate.at - original.at;
        if (duplicate.status === 201 && duplicate.replayed && duplicate.body === original.body) replayed++;
        else failures.push(`round ${round + 1} duplicate: ${describe(duplicate)}${duplicate.body === original.body ? '' : ', body differs'}`);
      });
      burst.answers.forEach((replay, i) => {
        burstLatencies[round * WAIT_DUPLICATES + i] = replay.at - burst.sentAt;
        if (replay.status !== 201 || !replay.replayed || replay.body !== original.body) {
          failures.push(`round ${round + 1} replay after it: ${describe(replay)}${replay.body === original.body ? '' : ', body differs'}`);
        }
      });
    }
  } finally {
    await app.stop();
  }
  latencies.sort();
  burstLatencies.sort();
  return {
    name: measurement.name,
    summary: measurement.summary,
    rounds,
    duplicatesPerRound: WAIT_DUPLICATES,
    afterOriginalMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies[latencies.length - 1],
      min: latencies[0],
    },
    replayBurstMs: { p50: percentile(burstLatencies, 0.5), p99: percentile(burstLatencies, 0.99) },
    replayed,
    failures: failures.length,
    failureExamples: failures.slice(0, FAILURE_EXAMPLES),
  };
}

/** What one round saw: the original, its duplicates, and the burst of replays sent once all had answered. */
interface RoundAnswers {
  original: Answer;
  duplicates: Answer[];
  burst: { sentAt: number; answers: Answer[] };
}

/**
 * One round on `key`: arms the app, sends the original, and once it runs its
 * handler (so it holds the key) sends the duplicates; once all have answered,
 * sends as many requests again at once (the replay burst).
 * @throws when the original answers before its handler runs: nothing would wait for it.
 */
async function waitRound(app: AppProcess, key: string): Promise<RoundAnswers> {
  await app.armWaitRound(WAIT_DUPLICATES);
  const original = post(app.port, key);
  let entered = false;
  await Promise.race([
    app.waitRoundEntered().then(() => (entered = true)),
    original.then((answer) => {
      if (!entered) throw new Error(`the original of ${key} answered before its handler ran: ${describe(answer)} ${answer.body}`);
    }),
  ]);
  const sendAll = () => Promise.all(Array.from({ length: WAIT_DUPLICATES }, () => post(app.port, key)));
  const duplicates = sendAll();
  const answers = { original: await original, duplicates: await duplicates };
  const sentAt = performance.now();
  return { ...answers, burst: { sentAt, answers: await sendAll() } };
}

/** `POST /orders` with `key`; a request that fails on the way is an answer of status 0. */
async function post(port: number, key: string): Promise<Answer> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: ORDER_BODY,
    });
    const body = await response.text();
    return { status: response.status, replayed: response.headers.get('idempotent-replayed') === 'true', body, at: performance.now() };
  } catch (error) {
    return { status: 0, replayed: false, body: error instanceof Error ? error.message : String(error), at: performance.now() };
  }
}

function describe(answer: Answer): string {
  return answer.status === 0 ? `no answer (${answer.body})` : `${answer.status}${answer.replayed ? ' replayed' : ''}`;
}
