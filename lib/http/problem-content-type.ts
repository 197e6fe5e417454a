import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** RFC 9457 media type of a problem details document in JSON. */
const PROBLEM_JSON = 'application/problem+json';

/**
 * Sends the answer to a library refusal as `application/problem+json`: when
 * its headers leave with the refusal's `status` and a plain JSON content type
 * (what Nest's exception filter and the adapter's `reply()` give an error body),
 * the media type becomes `application/problem+json` (parameters such as
 * `charset` kept). A filter that answers with another status or content type
 * (HTML, say) is left alone.
 *
 * The header is set as the response is written, not before the error reaches
 * the exception filter: Nest 11's adapters (Express and Fastify) replace any
 * other content type of an error body with `application/json`, and log
 * "Content-Type doesn't match Reply body" each time. Both adapters write
 * through Node's `ServerResponse.writeHead` (Express implicitly on `end()`,
 * Fastify with its headers as an argument), so this works for either.
 */
export function answerAsProblemJson(response: ServerResponse, status: number): void {
  const writeHead = response.writeHead;
  response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    response.writeHead = writeHead;
    if (args[0] === status) relabelJson(this, args);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/** Turns the JSON content type of `writeHead(status, [reason], [headers])`, or of the response, into problem+json. */
function relabelJson(response: ServerResponse, args: unknown[]): void {
  const index = typeof args[1] === 'string' ? 2 : 1;
  const headers = args[index];
  const name = isHeaderObject(headers) ? Object.keys(headers).find((key) => key.toLowerCase() === 'content-type') : undefined;
  if (isHeaderObject(headers) && name !== undefined) {
    const problem = asProblemJson(headers[name]);
    if (problem) args[index] = { ...headers, [name]: problem };
    return;
  }
  const problem = asProblemJson(response.getHeader('content-type'));
  if (problem) response.setHeader('Content-Type', problem);
}

/** `application/problem+json` with the parameters of `contentType`, if that is `application/json`. */
function asProblemJson(contentType: unknown): string | undefined {
  if (typeof contentType !== 'string') return undefined;
  const [mediaType, ...parameters] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'application/json') return undefined;
  return [PROBLEM_JSON, ...parameters].join(';');
}

function isHeaderObject(headers: unknown): headers is OutgoingHttpHeaders {
  return typeof headers === 'object' && headers !== null && !Array.isArray(headers);
}
