import type { INestApplication } from '@nestjs/common';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';

export const PROBLEM_JSON = /^application\/problem\+json/;

let keySequence = 0;
/** A key no other test uses. */
export const newKey = (label = 'key') => `${label}-${process.pid}-${Date.now().toString(36)}-${++keySequence}`;

/** What a test reads of an `idempotency_records` row. */
export interface RecordRow {
  scope: string;
  principal: string;
  key: string;
  status: string;
  response_status: number | null;
  response_body: Buffer | null;
  ttl_seconds: number | null;
}

/** The records stored under `key`, whatever their scope and principal. */
export async function recordsOf(app: INestApplication, key: string): Promise<RecordRow[]> {
  return app.get(DataSource).query(
    `SELECT scope, principal, key, status, response_status, response_body,
            extract(epoch FROM (expires_at - completed_at))::float AS ttl_seconds
       FROM idempotency_records WHERE key = $1 ORDER BY principal`,
    [key],
  );
}

/**
 * Calls `attempt` until `done(result)` holds, at most until `withinMs` passed;
 * resolves every result seen. Not a sleep: each attempt is a real request, and
 * the pause between attempts only spaces them out.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T>,
  done: (result: T) => boolean,
  withinMs = 10_000,
  everyMs = 150,
): Promise<T[]> {
  const results: T[] = [];
  const deadline = Date.now() + withinMs;
  for (;;) {
    const result = await attempt();
    results.push(result);
    if (done(result) || Date.now() > deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A request sent over a raw socket that the test can cut off. */
export interface AbortableRequest {
  /** Resolves the response, or `null` once the request was aborted. */
  readonly response: Promise<{ status: number; headers: IncomingHttpHeaders; body: string } | null>;
  /** Destroys the socket: the client is gone. */
  abort(): void;
}

/** Sends one request to an app that listens (see `bootRealApp(..., { listen: true })`). */
export function abortableRequest(
  app: INestApplication,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): AbortableRequest {
  const { port } = app.getHttpServer().address() as AddressInfo;
  let aborted = false;
  const payload = body === undefined ? undefined : Buffer.from(body);
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method,
    path,
    agent: false,
    headers: { ...headers, ...(payload ? { 'Content-Length': String(payload.length) } : {}) },
  });
  const response = new Promise<{ status: number; headers: IncomingHttpHeaders; body: string } | null>(
    (resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => (aborted ? resolve(null) : reject(error)));
      });
      req.on('error', (error) => (aborted ? resolve(null) : reject(error)));
      req.on('close', () => {
        if (aborted) resolve(null);
      });
    },
  );
  req.end(payload);
  return {
    response,
    abort() {
      aborted = true;
      req.destroy();
    },
  };
}

/** A supertest response whose `body` is the raw bytes received. */
export interface RawBodyResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads any response body as raw bytes (supertest parses by content type otherwise). */
export function rawBody(response: unknown, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  const stream = response as NodeJS.ReadableStream;
  stream.on('data', (chunk: Buffer | string) => chunks.push(Buffer.from(chunk)));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

/** `promise`, or a rejection naming `what` once `ms` passed: a wait that fails fast and says why. */
export async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
