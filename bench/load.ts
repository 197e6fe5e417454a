import autocannon from 'autocannon';

/** One closed-loop load run against `POST /orders`. */
export interface LoadOptions {
  port: number;
  connections: number;
  /** Seconds of load. */
  duration: number;
  /** Idempotency key of the next request. */
  nextKey: () => string;
}

/** What the load generator saw. */
export interface LoadResult {
  /** Responses received. */
  responses: number;
  /** Seconds the load ran. */
  duration: number;
  /** Response times in ms, every response (any status). */
  latencies: Float64Array;
  /** Responses by outcome: the status, with ` replayed` when `Idempotent-Replayed` was set. */
  outcomes: Record<string, number>;
  errors: number;
  timeouts: number;
}

/** The body of every request: the same payload, so a repeated key is a true retry. */
export const ORDER_BODY = JSON.stringify({ item: 'book', quantity: 1 });

/** Drives the app with autocannon for `duration` seconds and collects what it saw. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const outcomes: Record<string, number> = {};
  let latencies = new Float64Array(1 << 16);
  let responses = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}/orders`,
        connections: options.connections,
        duration: options.duration,
        timeout: 30,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: ORDER_BODY,
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              headers: { ...request.headers, 'idempotency-key': options.nextKey() },
            }),
            onResponse: (status, _body, _context, headers) => {
              const replayed = (headers['Idempotent-Replayed'] ?? headers['idempotent-replayed']) === 'true';
              const outcome = replayed ? `${status} replayed` : `${status}`;
              outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          responses,
          duration: result.duration,
          latencies: latencies.subarray(0, responses),
          outcomes,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      if (responses === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[responses++] = responseTime;
    });
  });
}
