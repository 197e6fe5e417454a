import type { Redis } from 'ioredis';

/** Commands counted at the client: every call of `sendCommand` of one ioredis client. */
export interface RedisCommandCounts {
  total: number;
}

type SendCommand = Redis['sendCommand'];

/**
 * Wraps `sendCommand` of `client` (this instance only), through which every
 * command of the client goes (`call`, `callBuffer`, `info`...), and counts
 * the calls: a script call is one (`EVALSHA`), or two when the server answers
 * `NOSCRIPT` and the store sends `EVAL`. Commands queued while the client
 * connects are sent through it again once connected, so startup counts a few
 * twice; the measured windows come long after.
 */
export function countRedisCommands(client: Redis): RedisCommandCounts {
  const counts: RedisCommandCounts = { total: 0 };
  const sendCommand: SendCommand = client.sendCommand.bind(client);
  client.sendCommand = (...args: Parameters<SendCommand>) => {
    counts.total++;
    return sendCommand(...args);
  };
  return counts;
}
