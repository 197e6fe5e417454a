import { createHash } from 'node:crypto';
import { RequestNotFingerprintableException } from '../exceptions/request-not-fingerprintable.exception.js';

/** What identifies an HTTP request for the mismatch check. */
export interface FingerprintInput {
  method: string;
  path: string;
  query: unknown;
  body: unknown;
}

/**
 * SHA-256 (hex) of the canonical JSON of method, path, query and body:
 * object keys sorted at every depth, so `{"a":1,"b":2}` and `{"b":2,"a":1}`
 * are the same request.
 *
 * @throws RequestNotFingerprintableException for a body nested deeper than
 *   the JavaScript stack allows (thousands of levels).
 */
export function requestFingerprint(input: FingerprintInput): string {
  let canonical: string;
  try {
    canonical = JSON.stringify([input.method, input.path, input.query ?? null, input.body ?? null], sortKeys);
  } catch (error) {
    if (error instanceof RangeError) throw new RequestNotFingerprintableException();
    throw error;
  }
  return createHash('sha256').update(canonical).digest('hex');
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(source)
      .sort()
      .map((key) => [key, source[key]]),
  );
}
