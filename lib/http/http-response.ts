import { StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import { UNREPLAYABLE_HEADERS } from '../idempotency.internal-constants.js';
import { encodeStoredBody } from '../protocol/stored-body.js';

/** The part of an Express response or a Fastify reply this library reads. */
export interface ResponseLike {
  statusCode: number;
  getHeader(name: string): unknown;
}

/** The `names` headers the response carries, minus those never replayed. */
export function replayableHeaders(response: ResponseLike, names: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of names) {
    const lower = name.toLowerCase();
    if (UNREPLAYABLE_HEADERS.has(lower)) continue;
    const value = response.getHeader(lower);
    if (value !== undefined && value !== null) headers[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}

/**
 * The stored body of a handler's value, or `null` when it must not be
 * stored: a stream (it is sent once, never replayed half), binary data (a
 * `Buffer`, typed array or `ArrayBuffer`: its JSON encoding would replay as an
 * object, not as the bytes Fastify sent), a value JSON cannot encode, or an
 * encoding over `maxBytes`.
 */
export function storableBody(value: unknown, maxBytes: number): Buffer | null {
  if (isStreaming(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return null;
  let body: Buffer;
  try {
    body = encodeStoredBody(value);
  } catch {
    return null;
  }
  return body.length > maxBytes ? null : body;
}

function isStreaming(value: unknown): boolean {
  return (
    value instanceof StreamableFile ||
    value instanceof Readable ||
    value instanceof ReadableStream ||
    value instanceof Response ||
    (typeof value === 'object' && value !== null && Symbol.asyncIterator in value)
  );
}
