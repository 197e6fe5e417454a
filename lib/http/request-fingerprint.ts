import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BodyNotFingerprintableException } from '../exceptions/body-not-fingerprintable.exception.js';
import { RequestNotFingerprintableException } from '../exceptions/request-not-fingerprintable.exception.js';

/** The parts of an Express request or a Fastify request the fingerprint reads. */
export interface FingerprintedRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  query: unknown;
  headers: IncomingHttpHeaders;
  /** The parsed body, `undefined` when no body parser ran. */
  body?: unknown;
  /** The raw body, kept by Nest with `rawBody: true` (for the media types it parses). */
  rawBody?: unknown;
  /** Files parsed by multer before the interceptor (as middleware). */
  file?: unknown;
  files?: unknown;
}

/**
 * SHA-256 (hex) of the canonical JSON of method, path, query, media type and
 * payload: object keys sorted at every depth, so `{"a":1,"b":2}` and
 * `{"b":2,"a":1}` are the same request. The payload is the parsed body (and
 * files, when multer ran before), else the SHA-256 of the raw body.
 *
 * @throws BodyNotFingerprintableException for a body the library cannot see
 *   (no parser ran for its media type, no raw body): refused, never left out.
 * @throws RequestNotFingerprintableException for a body nested deeper than
 *   the JavaScript stack allows (thousands of levels).
 */
export function requestFingerprint(request: FingerprintedRequest): string {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let canonical: string;
  try {
    canonical = JSON.stringify([request.method, request.path, request.query ?? null, mediaType, payloadOf(request, mediaType)], sortKeys);
  } catch (error) {
    if (error instanceof RangeError) throw new RequestNotFingerprintableException();
    throw error;
  }
  return sha256(canonical);
}

function payloadOf(request: FingerprintedRequest, mediaType: string): unknown {
  const files = filesOf(request);
  if (request.body !== undefined && request.body !== null) return files ? { body: request.body, files } : request.body;
  if (Buffer.isBuffer(request.rawBody)) return { raw: sha256(request.rawBody) };
  if (files) return { files };
  const length = request.headers['content-length'];
  if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined) {
    throw new BodyNotFingerprintableException(mediaType || 'untyped');
  }
  return null;
}

/** Files multer parsed: their field, name, type, size and content hash (when held in memory). */
function filesOf(request: FingerprintedRequest): unknown {
  if (request.file === undefined && request.files === undefined) return undefined;
  const all = [request.file, ...(Array.isArray(request.files) ? request.files : Object.values(request.files ?? {}).flat())];
  const files = all.filter((file): file is Record<string, unknown> => typeof file === 'object' && file !== null);
  if (files.length === 0) return undefined;
  return files.map(({ fieldname, originalname, mimetype, size, buffer }) => ({
    fieldname,
    originalname,
    mimetype,
    size,
    sha256: Buffer.isBuffer(buffer) ? sha256(buffer) : undefined,
  }));
}

function sha256(data: string | Buffer): string {
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
