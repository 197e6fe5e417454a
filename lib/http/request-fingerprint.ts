import { createHash } from 'node:crypto';

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
 */
export function requestFingerprint(input: FingerprintInput): string {
  const canonical = JSON.stringify([input.method, input.path, input.query ?? null, input.body ?? null], sortKeys);
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
