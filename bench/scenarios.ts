import { ORDER_BODY } from './load.js';
import type { AppMode } from './protocol.js';

/** What a scenario sets up and how it picks the key of each request. */
export interface Scenario {
  name: string;
  /** Which `POST /orders` the app serves. */
  mode: AppMode;
  summary: string;
  /** Runs before the warm-up, e.g. completes the keys that a replay repeats. */
  prepare?: (port: number) => Promise<void>;
  /** A fresh key source for the warm-up and the measured run. */
  keys: (connections: number) => () => string;
}

/** How many completed keys `library-replay` cycles through. */
const REPLAY_KEYS = 1000;

const newKeyEach = (prefix: string) => () => {
  let n = 0;
  return () => `${prefix}-${n++}`;
};

/** Every scenario, in the order of the first round (later rounds rotate it). */
export const SCENARIOS: Scenario[] = [
  { name: 'baseline', mode: 'baseline', summary: 'the handler without idempotency', keys: newKeyEach('baseline') },
  {
    name: 'hand-rolled',
    mode: 'hand-rolled',
    summary: 'the handler with its own raw-SQL idempotency (1 claim + 1 complete)',
    keys: newKeyEach('hand-rolled'),
  },
  { name: 'library-first', mode: 'library', summary: '@Idempotent(), a new key on every request', keys: newKeyEach('first') },
  {
    name: 'library-replay',
    mode: 'library',
    summary: `@Idempotent(), retries of ${REPLAY_KEYS} completed keys`,
    prepare: (port) => completeKeys(port, REPLAY_KEYS),
    keys: () => {
      let n = 0;
      return () => `replay-${n++ % REPLAY_KEYS}`;
    },
  },
  {
    name: 'library-conflict',
    mode: 'library',
    summary: '@Idempotent(), all connections on one key at a time, a new key every N requests (N = connections)',
    keys: (connections) => {
      let n = 0;
      return () => `conflict-${Math.floor(n++ / connections)}`;
    },
  },
];

/** Sends `replay-0` … `replay-<count - 1>` once each, 10 at a time; each must answer 201. */
async function completeKeys(port: number, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const key = `replay-${next++}`;
      const response = await fetch(`http://127.0.0.1:${port}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: ORDER_BODY,
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`completing key ${key}: expected 201, got ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
}
