import { describe } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/** The Redis server of the tests: `REDIS_URL`, else 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** {@link REDIS_URL} without its password, for test names and messages. */
export const REDIS_LABEL = REDIS_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/**
 * The `describe` of the suites that need Redis. The Jest config leaves those
 * suites out (with a "not run" line) when Redis is unreachable and `CI` is
 * unset, so here an unreachable Redis fails the suite: under CI, or when a
 * suite is run by path on purpose.
 *
 * @example
 * const describeWithRedis = await redisDescribe();
 * describeWithRedis('RedisIdempotencyStore', () => { ... });
 */
export async function redisDescribe(): Promise<typeof describe> {
  if (await isReachable(REDIS_URL)) return describe;
  throw new Error(`no Redis server at ${REDIS_LABEL} (set REDIS_URL or start redis-server)`);
}

/** A client of the test Redis; the caller disconnects it. */
export function connectRedis(options: RedisOptions = {}): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1, ...options });
}

/** A key prefix no other test run uses: `idempotency-test:<random>:`. */
export function uniquePrefix(): string {
  return `idempotency-test:${randomBytes(8).toString('hex')}:`;
}

export { deleteKeysWithPrefix as deleteKeys, keysWithPrefix } from '../../tools/redis-keys.js';

/**
 * The commands `client` sent while `operation` ran, as the server saw them:
 * MONITOR on a connection of its own, kept to the client's address and
 * delimited by ECHO markers; names in lower case, arguments as MONITOR
 * prints them. (A plain socket: ioredis's `monitor()` can lose its command
 * queue when MONITOR's OK and the first line arrive together.)
 */
export async function commandsOf(client: Redis, operation: () => Promise<unknown>): Promise<string[][]> {
  const addr = /(?:^|\s)addr=(\S+)/.exec(String(await client.call('CLIENT', 'INFO')))![1];
  const [start, end] = [`start-${randomUUID()}`, `end-${randomUUID()}`];
  const seen: string[][] = [];
  const monitor = await monitorServer(REDIS_URL, (source, args) => {
    if (source === addr) seen.push([args[0].toLowerCase(), ...args.slice(1)]);
    return source === addr && args[0].toLowerCase() === 'echo' && args[1] === end;
  });
  try {
    await client.echo(start);
    await operation();
    await client.echo(end);
    await monitor.done;
  } finally {
    monitor.close();
  }
  const from = seen.findIndex(([name, arg]) => name === 'echo' && arg === start);
  return seen.slice(from + 1, -1);
}

/**
 * Opens a MONITOR connection; resolves once it is monitoring. `onCommand`
 * sees every command (source address, arguments) and returns `true` to end:
 * then `done` resolves (it rejects after 5 s).
 */
async function monitorServer(url: string, onCommand: (source: string, args: string[]) => boolean) {
  const { hostname, port, username, password } = new URL(url);
  const socket = connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, ''));
  let monitoring: (value?: unknown) => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const started = new Promise((resolve, reject) => ([monitoring, failed] = [resolve, reject]));
  let finish: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    timer = setTimeout(() => reject(new Error('MONITOR did not show the end marker within 5 s')), 5_000);
  });
  done.catch(() => undefined); // rejects for whoever awaits it, never unhandled
  const close = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  let buffer = '';
  let oks = password ? 2 : 1; // +OK of AUTH, then of MONITOR
  socket.on('error', (error) => failed(error));
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    for (let eol = buffer.indexOf('\r\n'); eol >= 0; eol = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      if (line.startsWith('-')) failed(new Error(`MONITOR: ${line.slice(1)}`));
      else if (oks > 0 && line === '+OK' && --oks === 0) monitoring();
      else {
        const parsed = /^\+\d+\.\d+ \[\d+ (\S+)\] (.*)$/.exec(line);
        if (parsed && onCommand(parsed[1], [...parsed[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, arg]) => unescape(arg)))) finish();
      }
    }
  });
  const auth = password ? [['AUTH', ...(username ? [decodeURIComponent(username)] : []), decodeURIComponent(password)]] : [];
  for (const command of [...auth, ['MONITOR']]) {
    socket.write(`*${command.length}\r\n${command.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
  }
  try {
    await started;
  } catch (error) {
    close();
    throw error;
  }
  return { done, close };
}

/** An argument as MONITOR quotes it (`\"`, `\\`, `\xHH`, `\n`...). */
function unescape(arg: string): string {
  const named: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };
  return arg.replace(/\\(x[0-9a-f]{2}|.)/g, (_, c: string) =>
    c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (named[c] ?? c),
  );
}

async function isReachable(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 10, // else disconnect() after a failed connect holds the process for 2 s
  });
  probe.on('error', () => undefined); // the failed connect rejects below
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
