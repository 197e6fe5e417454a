import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A response as the app sent it on the wire: status, headers, body bytes. */
export interface WireResponse {
  status: number;
  /** Every header of the response, names in lower case. */
  headers: OutgoingHttpHeaders;
  /**
   * The body bytes, or `null` when the response was not held whole: it was
   * streamed (headers flushed early) or grew past the byte limit.
   */
  body: Buffer | null;
}

type Callback = (error?: Error | null) => void;
type Write = ServerResponse['write'];
type End = ServerResponse['end'];
type WriteHead = ServerResponse['writeHead'];

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;

/**
 * Holds what the app sends on `response` (after every interceptor, serializer
 * and exception filter, as the HTTP adapter writes it) until `beforeSend` has
 * resolved, then lets it go out unchanged, or sends the response
 * `beforeSend` resolved in its place. `beforeSend` sees the response
 * once, before any byte of it leaves: a body sent whole (one `end()`, as
 * Express's `res.send` and Fastify's `reply.send` do) of at most `maxBytes`
 * with its bytes; a larger one, or a stream (`write()` before `end()`, or
 * flushed headers) with `body: null`. It must not reject. Works for Express
 * (`res`) and Fastify (`reply.raw`): both write through Node's `ServerResponse`.
 */
export function holdResponse(
  response: ServerResponse,
  maxBytes: number,
  beforeSend: (sent: WireResponse) => Promise<WireReplay | void>,
): void {
  const originals = takeMethods(response);
  const pending: (() => void)[] = [];
  let head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  let settling = false;

  const settle = (body: Buffer | null): void => {
    if (settling) return;
    settling = true;
    const status = head?.status ?? response.statusCode;
    const headers = { ...response.getHeaders(), ...head?.headers };
    void beforeSend({ status, headers, body }).then((replacement) => {
      restoreMethods(response, originals);
      if (!replacement) {
        for (const call of pending) call();
        return;
      }
      for (const name of response.getHeaderNames()) response.removeHeader(name);
      sendStored(response, replacement);
    });
  };
  const later = (method: 'writeHead' | 'write' | 'end' | 'flushHeaders', args: unknown[]): void => {
    pending.push(() => (originals[method] as (...a: unknown[]) => unknown).apply(response, args));
  };

  response.writeHead = function (...args: unknown[]) {
    head = parseHead(args);
    later('writeHead', args);
    return response;
  } as WriteHead;
  response.flushHeaders = (...args: unknown[]) => {
    later('flushHeaders', args);
    settle(null);
  };
  response.write = function (...args: unknown[]) {
    later('write', args);
    settle(null);
    return true;
  } as Write;
  response.end = function (...args: unknown[]) {
    later('end', args);
    const body = typeof args[0] === 'function' ? undefined : toBuffer(args[0], args[1]);
    settle(body === undefined ? Buffer.alloc(0) : body.length > maxBytes ? null : body);
    return response;
  } as End;
}

/**
 * Sends `stored` in place of whatever the app sends on `response` next (the
 * value a replayed request carries through Nest is a placeholder): the
 * stored status and body; the headers the app set for this request (CORS,
 * request ids) except those named in `storedNames`, which come from `stored`.
 */
export function substituteResponse(response: ServerResponse, stored: WireReplay, storedNames: string[]): void {
  const originals = takeMethods(response);
  let headHeaders: OutgoingHttpHeaders = {};
  response.writeHead = function (...args: Parameters<WriteHead>) {
    headHeaders = parseHead(args).headers;
    return response;
  } as WriteHead;
  response.flushHeaders = () => undefined;
  response.write = function (...args: unknown[]) {
    const callback = args.find((arg) => typeof arg === 'function') as Callback | undefined;
    if (callback) process.nextTick(callback);
    return true;
  } as Write;
  response.end = function (...args: unknown[]) {
    restoreMethods(response, originals);
    for (const [name, value] of Object.entries(headHeaders)) {
      if (value !== undefined) response.setHeader(name, value);
    }
    for (const name of [...storedNames, 'etag', 'content-length', 'transfer-encoding']) response.removeHeader(name);
    sendStored(response, stored);
    const callback = args.find((arg) => typeof arg === 'function') as Callback | undefined;
    if (callback) response.once('finish', () => callback());
    return response;
  } as End;
}

/** A stored response to send again. */
export interface WireReplay {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Writes `stored` on `response` at once, over whatever headers it already has. */
export function sendStored(response: ServerResponse, stored: WireReplay): void {
  for (const [name, value] of Object.entries(stored.headers)) response.setHeader(name, value);
  response.setHeader('content-length', stored.body.length);
  response.statusCode = stored.status;
  response.end(stored.body);
}

function takeMethods(response: ServerResponse) {
  return {
    writeHead: response.writeHead,
    write: response.write,
    end: response.end,
    flushHeaders: response.flushHeaders,
  };
}

function restoreMethods(response: ServerResponse, originals: ReturnType<typeof takeMethods>): void {
  for (const name of METHODS) (response as unknown as Record<string, unknown>)[name] = originals[name];
}

/** Status and headers of a `writeHead(status, [message], [headers])` call. */
function parseHead(args: unknown[]): { status: number; headers: OutgoingHttpHeaders } {
  const raw = typeof args[1] === 'string' ? args[2] : args[1];
  const headers: OutgoingHttpHeaders = {};
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) headers[String(raw[i]).toLowerCase()] = raw[i + 1];
  } else if (raw && typeof raw === 'object') {
    for (const [name, value] of Object.entries(raw)) headers[name.toLowerCase()] = value as string;
  }
  return { status: Number(args[0]), headers };
}

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null) return undefined;
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}
