import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from './cluster.js';
import type { HttpResult } from './http.js';
import type { EffectResponse } from './messages.js';
import type { WorkerProcess } from './worker-process.js';

const PROBLEM_JSON = /^application\/problem\+json/;

/** The response that ran the handler: 201 without `Idempotent-Replayed`. */
export function isOriginal(result: HttpResult): boolean {
  return result.status === 201 && result.headers['idempotent-replayed'] === undefined;
}

/** A replay of `original`: byte-identical status, content type and body, marked `Idempotent-Replayed`. */
export function isReplayOf(result: HttpResult, original: HttpResult): boolean {
  return (
    result.headers['idempotent-replayed'] === 'true' &&
    result.status === original.status &&
    result.headers['content-type'] === original.headers['content-type'] &&
    result.body.equals(original.body)
  );
}

/** A problem+json answer of `status` with a `Retry-After` in whole seconds. */
export function isRetryableProblem(result: HttpResult, status: 409 | 503): boolean {
  return (
    result.status === status &&
    PROBLEM_JSON.test(String(result.headers['content-type'])) &&
    /^[1-9]\d*$/.test(String(result.headers['retry-after'])) &&
    result.json().status === status
  );
}

/**
 * Checks the answers to every request with one key: exactly one original, and
 * each other answer a 409 or a byte-identical replay of it. Returns the
 * original, or a description of what is wrong.
 */
export function checkOneKey(results: HttpResult[]): { original: HttpResult } | { error: string } {
  const originals = results.filter(isOriginal);
  if (originals.length !== 1) {
    return { error: `${originals.length} originals: ${originals.map((r) => r.body.toString()).join(' | ')}` };
  }
  const [original] = originals;
  const odd = results.filter((r) => r !== original && !isReplayOf(r, original) && !isRetryableProblem(r, 409));
  if (odd.length > 0) {
    return { error: `unexpected answers: ${odd.map((r) => `${r.status} ${r.body.toString()}`).join(' | ')}` };
  }
  return { original };
}

/** The execution an answer reports. */
export function effectOf(result: HttpResult): EffectResponse {
  return result.json<EffectResponse>();
}

/** Groups `items` by `keyOf`. */
export function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

/** Polls `condition` every `intervalMs` until it holds; rejects after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Retries `send` every `intervalMs` while it answers 409 (the key is in
 * flight), like a client honouring Retry-After, only faster; resolves the
 * first other answer and how many 409s came before it.
 */
export async function retryWhileInFlight(
  send: (attempt: number) => Promise<HttpResult>,
  intervalMs: number,
  timeoutMs = 15_000,
): Promise<{ answer: HttpResult; conflicts: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const answer = await send(attempt);
    if (answer.status !== 409) return { answer, conflicts: attempt };
    if (Date.now() > deadline) throw new Error(`still 409 after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Sends a gated request of `key` to `worker` and kills the worker (`kill -9`)
 * once its handler has claimed the key and waits at its barrier, like an
 * instance crashing mid-handler. Resolves how that request ended: `'no answer'`
 * unless the worker answered it before it died.
 */
export async function crashMidHandler(worker: WorkerProcess, key: string): Promise<'answered' | 'no answer'> {
  const first = worker.request({ path: '/effects', headers: { 'X-Gate': '1' }, key }).then(
    () => 'answered' as const,
    () => 'no answer' as const,
  );
  await worker.arrived(key);
  await worker.crash();
  return first;
}

/**
 * Forces a takeover of `key`, whose gated handler waits on another instance:
 * ends its lease (`endLease`, as if that instance had stalled past it) and
 * sends a gated retry to `owner`, until the retry claims the key and waits at
 * its own barrier (the stalled instance's heartbeat may renew the lease
 * between the two steps: then the retry gets 409 and it tries again).
 * Resolves the new owner's pending answer (wrapped: an async function
 * resolving a promise would wait for it).
 */
export async function forceTakeover(
  owner: WorkerProcess,
  key: string,
  endLease: (key: string) => Promise<unknown>,
  attempts = 20,
): Promise<{ answer: Promise<HttpResult> }> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await endLease(key);
    const retry = owner.request({ path: '/effects', headers: { 'X-Gate': '1' }, key });
    const outcome = await Promise.race([owner.arrived(key).then(() => 'claimed'), retry.then(() => 'answered')]);
    if (outcome === 'claimed') return { answer: retry };
  }
  throw new Error(`no retry on ${owner.name} took ${key} over in ${attempts} attempts`);
}

/** One request of a storm and the answer it got. */
export interface KeyedAnswer {
  key: string;
  result: HttpResult;
}

/**
 * A storm of retries: `perKey` requests for each of `keys`, all in flight
 * together, each sent to a random instance at a random moment within
 * `spreadMs` (so each key meets its own first run, its completion and later
 * retries), with a random handler delay below `maxDelayMs`.
 */
export function retryStorm(
  cluster: Cluster,
  keys: string[],
  { perKey = 10, spreadMs = 1_500, maxDelayMs = 30 } = {},
): Promise<KeyedAnswer[]> {
  const random = (below: number) => Math.floor(Math.random() * below);
  return Promise.all(
    keys.flatMap((key) =>
      Array.from({ length: perKey }, async () => {
        await sleep(random(spreadMs));
        const headers = { 'X-Delay-Ms': String(random(maxDelayMs)) };
        return { key, result: await cluster.any().request({ path: '/effects', key, headers }) };
      }),
    ),
  );
}

/**
 * Checks a storm's answers key by key: {@link checkOneKey}, and the original
 * reports an execution of its own key. Returns what is wrong, one line per key.
 */
export function checkStorm(answers: KeyedAnswer[]): string[] {
  const failures: string[] = [];
  for (const [key, ofKey] of groupBy(answers, (answer) => answer.key)) {
    const check = checkOneKey(ofKey.map((answer) => answer.result));
    if ('error' in check) failures.push(`${key}: ${check.error}`);
    else if (effectOf(check.original).key !== key) failures.push(`${key}: answered with ${check.original.body}`);
  }
  return failures;
}
