import { hash } from 'node:crypto';
import { RequestNotFingerprintableException } from '../exceptions/request-not-fingerprintable.exception.js';

/**
 * SHA-256 (hex) of the canonical JSON of `value`: object keys sorted at
 * every depth, so `{"a":1,"b":2}` and `{"b":2,"a":1}` hash alike. The
 * fingerprint of every transport.
 *
 * @throws RequestNotFingerprintableException for a value nested deeper than
 *   the JavaScript stack allows (thousands of levels).
 */
export function canonicalSha256(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * The JSON of `value` with object keys sorted at every depth.
 * @throws RequestNotFingerprintableException as {@link canonicalSha256}.
 */
export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(value, sortKeys) ?? 'undefined';
  } catch (error) {
    if (error instanceof RangeError) throw new RequestNotFingerprintableException();
    throw error;
  }
}

/** SHA-256 of `data` in hex. */
export function sha256(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  if (isSorted(keys)) return value; // the common case of a small DTO: no copy
  return Object.fromEntries(keys.sort().map((key) => [key, source[key]]));
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}
