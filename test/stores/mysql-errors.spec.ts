import { describe, expect, it } from '@jest/globals';
import { IdempotencyStoreConnectionError } from '../../lib/index.js';
import { classify, isRetryable } from '../../lib/stores/typeorm/mysql/mysql-errors.js';
import { mysqlServerOf } from '../../lib/stores/typeorm/mysql/mysql-server.js';

describe('MySQL dialect: pure parts', () => {
  it.each([
    ['10.11.19-MariaDB-0+deb12u1', { insertReturning: true }],
    ['10.5.0-MariaDB', { insertReturning: true }],
    ['11.4.2-MariaDB-log', { insertReturning: true }],
    ['10.4.32-MariaDB', { insertReturning: false }],
    ['8.4.3', { insertReturning: false }],
    ['9.1.0-commercial', { insertReturning: false }],
  ])('reads the server of VERSION() %s', (version, server) => {
    expect(mysqlServerOf(version)).toEqual(server);
  });

  it('retries deadlocks (1213) and lock wait timeouts (1205) only', () => {
    expect(isRetryable(Object.assign(new Error('deadlock'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('lock wait'), { errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('dup'), { errno: 1062, code: 'ER_DUP_ENTRY' }))).toBe(false);
  });

  it.each<[string, { message?: string; code?: string; errno?: number; fatal?: boolean }]>([
    ['connection refused', { code: 'ECONNREFUSED' }],
    ['connection lost', { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }],
    ['too many connections', { errno: 1040, code: 'ER_CON_COUNT_ERROR' }],
    ['server shutdown', { errno: 1053, code: 'ER_SERVER_SHUTDOWN' }],
    ['connection killed (MariaDB)', { errno: 1927, code: 'ER_CONNECTION_KILLED' }],
    ['a closed pool', { message: 'Pool is closed.' }],
  ])('classifies %s as unreachable', (_case, fields) => {
    const error = Object.assign(new Error(fields.message ?? 'failed'), fields);
    const classified = classify(error);
    expect(classified).toBeInstanceOf(IdempotencyStoreConnectionError);
    expect((classified as Error).cause).toBe(error);
  });

  it.each([
    ['a missing table', { errno: 1146, code: 'ER_NO_SUCH_TABLE' }],
    ['denied access', { errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', fatal: true }],
    ['a syntax error', { errno: 1064, code: 'ER_PARSE_ERROR' }],
  ])('passes %s as is', (_case, fields) => {
    const error = Object.assign(new Error('failed'), fields);
    expect(classify(error)).toBe(error);
  });
});
