import { request as httpRequest, type Agent } from 'node:http';

/** An HTTP answer, body kept as bytes so replays can be compared exactly. */
export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** A request to `POST /effects` and friends. */
export interface WorkerRequest {
  method?: string;
  path: string;
  /** Sent as `Idempotency-Key`. */
  key?: string;
  /** Sent as `X-User` (the worker's stand-in for authentication). */
  user?: string;
  headers?: Record<string, string>;
  /** JSON body; `{}` by default for POST. */
  body?: unknown;
}

/**
 * Sends one request to 127.0.0.1:`port` over `agent`; rejects only when no
 * HTTP answer came (e.g. the process died).
 */
export function send(agent: Agent, port: number, request: WorkerRequest): Promise<HttpResult> {
  const { method = 'POST', path, key, user, headers = {}, body } = request;
  const payload = method === 'GET' ? undefined : Buffer.from(JSON.stringify(body ?? {}));
  const allHeaders: Record<string, string | number> = { ...headers };
  if (key !== undefined) allHeaders['Idempotency-Key'] = key;
  if (user !== undefined) allHeaders['X-User'] = user;
  if (payload) Object.assign(allHeaders, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: allHeaders, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const json = () => JSON.parse(bytes.toString());
        resolve({ status: res.statusCode!, headers: res.headers, body: bytes, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
