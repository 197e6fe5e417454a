import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';

/** One entry of a GraphQL response's `errors`. */
export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; status?: number; retryAfterSeconds?: number; [name: string]: unknown };
}

/** A GraphQL response as received over HTTP. */
export interface GqlResponse {
  status: number;
  data: Record<string, unknown> | null | undefined;
  errors: GqlError[] | undefined;
}

/** What goes with an operation: its variables, its `Idempotency-Key`, the user it is sent as, other headers. */
export interface GqlCall {
  variables?: Record<string, unknown>;
  key?: string;
  /** Sent as `Authorization: Bearer <user>` (see gql-user.guard.ts). */
  user?: string;
  headers?: Record<string, string>;
}

/** POSTs one operation to `/graphql` of `app` (a real HTTP server, through supertest). */
export async function gql(app: INestApplication, query: string, call: GqlCall = {}): Promise<GqlResponse> {
  let post = request(app.getHttpServer()).post('/graphql').set('Content-Type', 'application/json');
  if (call.key !== undefined) post = post.set('Idempotency-Key', call.key);
  if (call.user !== undefined) post = post.set('Authorization', `Bearer ${call.user}`);
  for (const [name, value] of Object.entries(call.headers ?? {})) post = post.set(name, value);
  const response = await post.send({ query, variables: call.variables ?? {} });
  const body = JSON.parse(response.text) as { data?: Record<string, unknown> | null; errors?: GqlError[] };
  return { status: response.status, data: body.data, errors: body.errors };
}

let keySequence = 0;
/** A key, or a `ref` of rows, that no other test uses. */
export const newKey = (label = 'gql') => `${label}-${process.pid}-${Date.now().toString(36)}-${++keySequence}`;

/** The idempotency records stored under `key`, ordered by scope and principal. */
export async function recordsOf(
  app: INestApplication,
  key: string,
): Promise<{ scope: string; principal: string; status: string }[]> {
  return app
    .get(DataSource)
    .query('SELECT scope, principal, status FROM idempotency_records WHERE key = $1 ORDER BY scope, principal', [key]);
}
