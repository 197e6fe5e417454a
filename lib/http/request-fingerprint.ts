import type { IncomingHttpHeaders } from 'node:http';
import { BodyNotFingerprintableException } from '../exceptions/body-not-fingerprintable.exception.js';
import { canonicalSha256, sha256 } from '../protocol/canonical-json.js';

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
  return canonicalSha256([request.method, request.path, request.query ?? null, mediaType, payloadOf(request, mediaType)]);
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
