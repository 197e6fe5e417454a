import { IDEMPOTENT_REPLAYED_HEADER } from '../idempotency.constants.js';
import { MAX_KEY_LENGTH } from '../idempotency.internal-constants.js';
import { IdempotencyKeyInFlightException } from '../exceptions/idempotency-key-in-flight.exception.js';
import { IdempotencyKeyMissingException } from '../exceptions/idempotency-key-missing.exception.js';
import { IdempotencyKeyReusedException } from '../exceptions/idempotency-key-reused.exception.js';
import { IdempotencyStoreUnavailableException } from '../exceptions/idempotency-store-unavailable.exception.js';
import type { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { IdempotentResponseNotStoredException } from '../exceptions/idempotent-response-not-stored.exception.js';
import { InvalidIdempotencyKeyException } from '../exceptions/invalid-idempotency-key.exception.js';
import { PRINTABLE_ASCII } from '../http/idempotency-key.js';
import type { HeaderParameter, ResponseObject } from './swagger-metadata.js';

/** What the documentation of one idempotent HTTP route depends on. */
export interface IdempotentOperation {
  /** The request header carrying the key (the module's `header` option). */
  header: string;
  /** `false` when the route's `key` option reads the key from the request instead of the header. */
  keyInHeader: boolean;
  /** Whether a request without a key is refused (400). */
  required: boolean;
  /** Whether an unreachable store answers 503 (fail closed, or atomic). */
  failsClosed: boolean;
}

const PROBLEM_JSON = 'application/problem+json';

/** RFC 9457 problem details, the body of every refusal (see `ProblemDetails`). */
const PROBLEM_DETAILS_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri', description: 'The problem, e.g. `urn:nestjs-idempotency:key-in-flight`.' },
    title: { type: 'string', description: 'Summary of the problem type.' },
    status: { type: 'integer', description: 'The HTTP status.' },
    detail: { type: 'string', description: 'What happened and what to do about it.' },
  },
};

const RETRY_AFTER = { description: 'Seconds to wait before retrying with the same key.', schema: { type: 'integer' } };

/** The `Idempotent-Replayed` header of a success response. */
export const REPLAYED_HEADERS = {
  [IDEMPOTENT_REPLAYED_HEADER]: {
    description: '`true` when this is the stored response of an earlier request with the same key (the handler did not run again).',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** The key header parameter: a bare value or an RFC 8941 string of 1 to 255 printable ASCII characters. */
export function keyHeaderParameter(header: string, required: boolean): HeaderParameter {
  return {
    name: header,
    in: 'header',
    required,
    description:
      `Idempotency key: a unique value per operation (e.g. a UUID), sent again unchanged on every retry. ` +
      `A bare value (\`abc\`) or an RFC 8941 string (\`"abc"\`); 1 to ${MAX_KEY_LENGTH} printable ASCII characters (inside the quotes). ` +
      (required ? 'Required: a request without it is refused with 400.' : 'Optional: without it the request runs without idempotency.'),
    schema: { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH, pattern: PRINTABLE_ASCII.source, example: '5f0c2a5e-8d9b-4c1e-9a43-7b6f1d2e3c4a' },
  };
}

/**
 * The refusals of the route, by status: 400, 409, 422 and, when it fails
 * closed, 503. The examples are the exceptions the library throws (with the
 * `Retry-After` of `protocol/admissions.ts`: 1 s in flight, 5 s store down).
 */
export function problemResponses({ header, keyInHeader, required, failsClosed }: IdempotentOperation): Record<string, ResponseObject> {
  const missing = required ? [new IdempotencyKeyMissingException(header)] : [];
  const badKey = keyInHeader
    ? problem(
        `The ${header} header is ${required ? 'missing or ' : ''}invalid: empty, over ${MAX_KEY_LENGTH} characters, ` +
          'outside printable ASCII, a broken quoted string, or sent twice.',
        [...missing, new InvalidIdempotencyKeyException(header, 'must not be empty')],
      )
    : problem(`The idempotency key read by the route's \`key\` option is ${required ? 'missing or ' : ''}not 1 to ${MAX_KEY_LENGTH} characters.`, missing);
  const responses: Record<string, ResponseObject> = {
    400: badKey,
    409: problem(
      'The first request with this key is still in flight: retry after `Retry-After` seconds to get its response. ' +
        'Or it completed with a response that was not stored (streamed, or too large), which cannot be replayed.',
      [new IdempotencyKeyInFlightException(1), new IdempotentResponseNotStoredException()],
      true,
    ),
    422: problem('This key was already used with a different request (method, path, query or body): send a new key for a new request.', [
      new IdempotencyKeyReusedException(),
    ]),
  };
  if (failsClosed) {
    responses[503] = problem(
      'The idempotency store is unreachable, so the request was not processed: retry after `Retry-After` seconds with the same key.',
      [new IdempotencyStoreUnavailableException(5)],
      true,
    );
  }
  return responses;
}

/** A problem response; its examples are the library's own answers. Fresh objects: a YAML dump of shared ones would show anchors. */
function problem(description: string, examples: IdempotencyException[], retryAfter = false): ResponseObject {
  return {
    description,
    ...(retryAfter ? { headers: { 'Retry-After': structuredClone(RETRY_AFTER) } } : {}),
    content: {
      [PROBLEM_JSON]: {
        schema: structuredClone(PROBLEM_DETAILS_SCHEMA),
        ...(examples.length > 0 ? { examples: Object.fromEntries(examples.map(exampleOf)) } : {}),
      },
    },
  };
}

/** `['key-in-flight', { summary, value }]`: an exception's problem as a named example. */
function exampleOf({ problem }: IdempotencyException): [string, { summary: string; value: unknown }] {
  return [problem.type.slice(problem.type.lastIndexOf(':') + 1), { summary: problem.title, value: problem }];
}
