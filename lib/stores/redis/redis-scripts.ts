import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script and the SHA-1 Redis caches it under. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): RedisScript => ({ source, sha: createHash('sha1').update(source).digest('hex') });

/*
 * A record is one hash at KEYS[1] whose TTL is its expiry: `lockTimeout` while
 * processing, `ttl` once completed (PEXPIRE 0 deletes it). An expired record is
 * a missing key, so "take over an expired record" is "insert". Fields:
 *   fingerprint   request identity           token    fences every write
 *   state         processing | completed     status   stored HTTP status
 *   headers       JSON of stored headers     body     stored bytes (absent: not stored)
 * Each script touches KEYS[1] only, so it runs on one Cluster slot.
 */

/**
 * ARGV: fingerprint, token, lease ms. Replies `{1}` when claimed, else
 * `{0, pttl, fingerprint, state, status, headers, body}` of the record in the way.
 */
export const CLAIM = script(`
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'token', ARGV[2], 'state', 'processing')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1}
end
local r = redis.call('HMGET', KEYS[1], 'fingerprint', 'state', 'status', 'headers', 'body')
return {0, pttl, r[1], r[2], r[3], r[4], r[5]}
`);

/**
 * ARGV: token, status, headers JSON, ttl ms, '1' when a body follows, body,
 * and the channel to announce on ('' for none). Replies 1, or 0 when the token lost the record.
 */
export const COMPLETE = script(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'completed', 'status', ARGV[2], 'headers', ARGV[3])
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'body', ARGV[6]) else redis.call('HDEL', KEYS[1], 'body') end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], KEYS[1]) end
return 1
`);

/** ARGV: token, the channel to announce on ('' for none). Deletes the record; replies 1, or 0 when the token lost it. */
export const RELEASE = script(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], KEYS[1]) end
return 1
`);

/** ARGV: token, lease ms. Renews the lease of a processing record; replies 1, or 0. */
export const EXTEND_LEASE = script(`
local r = redis.call('HMGET', KEYS[1], 'token', 'state')
if r[1] ~= ARGV[1] or r[2] ~= 'processing' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/**
 * Operator API, read only. Replies `{0}` when there is no record (Redis
 * expired it: claimable), else `{1, pttl, token, fingerprint, state, status}`.
 */
export const FIND = script(`
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return {0} end
local r = redis.call('HMGET', KEYS[1], 'token', 'fingerprint', 'state', 'status')
return {1, pttl, r[1], r[2], r[3], r[4]}
`);

/**
 * Runs `script` on `key` in one round trip: `EVALSHA`, and `EVAL` (which also
 * caches it) when the server answers `NOSCRIPT` because it forgot the script
 * (a restart, a failover, `SCRIPT FLUSH`). Replies come back as Buffers, so
 * bodies keep their exact bytes. The client is used as is: no `defineCommand`.
 */
export async function runScript(
  redis: Redis | Cluster,
  { source, sha }: RedisScript,
  key: string,
  args: (string | Buffer)[],
): Promise<unknown> {
  try {
    return await redis.callBuffer('evalsha', sha, 1, key, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.callBuffer('eval', source, 1, key, ...args);
  }
}
