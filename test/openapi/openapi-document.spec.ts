import { beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { IdempotencyModule } from '../../lib/idempotency.module.js';
import type { IdempotencyModuleOptions } from '../../lib/interfaces/idempotency-module-options.interface.js';
import { InMemoryIdempotencyStore } from '../../lib/stores/in-memory.store.js';
import { InvoicesController, OrdersController, RefundsController, ShipmentsController } from './openapi-fixtures.js';

const PROBLEM_DETAILS = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri', description: 'The problem, e.g. `urn:nestjs-idempotency:key-in-flight`.' },
    title: { type: 'string', description: 'Summary of the problem type.' },
    status: { type: 'integer', description: 'The HTTP status.' },
    detail: { type: 'string', description: 'What happened and what to do about it.' },
  },
};
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying with the same key.', schema: { type: 'integer' } } };
const REPLAYED = {
  'Idempotent-Replayed': {
    description: '`true` when this is the stored response of an earlier request with the same key (the handler did not run again).',
    schema: { type: 'string', enum: ['true'] },
  },
};
const KEY_SCHEMA = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]*$', example: '5f0c2a5e-8d9b-4c1e-9a43-7b6f1d2e3c4a' };
const KEY_DESCRIPTION =
  'Idempotency key: a unique value per operation (e.g. a UUID), sent again unchanged on every retry. ' +
  'A bare value (`abc`) or an RFC 8941 string (`"abc"`); 1 to 255 printable ASCII characters (inside the quotes). ';

function problem(description: string, examples: Record<string, [title: string, status: number, detail: string]>) {
  return {
    description,
    content: {
      'application/problem+json': {
        schema: PROBLEM_DETAILS,
        examples: Object.fromEntries(
          Object.entries(examples).map(([name, [title, status, detail]]) => [
            name,
            { summary: title, value: { type: `urn:nestjs-idempotency:${name}`, title, status, detail } },
          ]),
        ),
      },
    },
  };
}

const KEY_MISSING: [string, number, string] = [
  'Idempotency key missing',
  400,
  'This endpoint requires an Idempotency-Key header: send a unique value (e.g. a UUID) and reuse it when you retry.',
];
const KEY_INVALID: [string, number, string] = ['Invalid idempotency key', 400, 'The Idempotency-Key header must not be empty.'];
const BAD_KEY = problem(
  'The Idempotency-Key header is missing or invalid: empty, over 255 characters, outside printable ASCII, a broken quoted string, or sent twice.',
  { 'key-missing': KEY_MISSING, 'key-invalid': KEY_INVALID },
);
const IN_FLIGHT = {
  ...problem(
    'The first request with this key is still in flight: retry after `Retry-After` seconds to get its response. ' +
      'Or it completed with a response that was not stored (streamed, or too large), which cannot be replayed.',
    {
      'key-in-flight': [
        'Request in progress',
        409,
        'A request with this idempotency key is still being processed. Retry after 1 s to get its response.',
      ],
      'response-not-stored': [
        'Response not replayable',
        409,
        'The request with this idempotency key was already processed, but its response was too large or streamed and was not stored. ' +
          'Fetch the result through the API instead of retrying.',
      ],
    },
  ),
  headers: RETRY_AFTER,
};
const KEY_REUSED = problem(
  'This key was already used with a different request (method, path, query or body): send a new key for a new request.',
  {
    'key-reused': [
      'Idempotency key reused with a different request',
      422,
      "This idempotency key was already used with a different request (method, path, query or body; a mutation's arguments; a message's data). " +
        'Send a new key for a new request.',
    ],
  },
);
const STORE_UNAVAILABLE = {
  ...problem(
    'The idempotency store is unreachable, so the request was not processed: retry after `Retry-After` seconds with the same key.',
    {
      'store-unavailable': [
        'Idempotency store unavailable',
        503,
        'The request was not processed because its idempotency record could not be stored. Retry later with the same key.',
      ],
    },
  ),
  headers: RETRY_AFTER,
};

/**
 * Creates the app the way apps document themselves: `NestFactory.create()`,
 * then `SwaggerModule.createDocument()` before `app.init()` / `listen()`.
 */
async function documentApp(idempotency: ReturnType<typeof IdempotencyModule.forRootAsync>): Promise<OpenAPIObject> {
  @Module({ imports: [idempotency], controllers: [OrdersController, RefundsController, ShipmentsController, InvoicesController] })
  class AppModule {}
  const app: INestApplication = await NestFactory.create(AppModule, { logger: false });
  try {
    return SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('shop').build());
  } finally {
    await app.close();
  }
}

function operation(document: OpenAPIObject, path: string, method: 'get' | 'post' | 'put') {
  const found = document.paths[path]?.[method];
  if (!found) throw new Error(`no ${method.toUpperCase()} ${path} in the document`);
  return found;
}

describe('OpenAPI document of @Idempotent() routes (@nestjs/swagger, no extra decorator)', () => {
  let document: OpenAPIObject;

  beforeAll(async () => {
    document = await documentApp(IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore() }));
  });

  it('documents the required Idempotency-Key header with the key format, before app.init()', () => {
    expect(operation(document, '/orders', 'post').parameters).toEqual([
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        description: KEY_DESCRIPTION + 'Required: a request without it is refused with 400.',
        schema: KEY_SCHEMA,
      },
    ]);
  });

  it('documents 400, 409, 422 and 503 as problem+json, and Idempotent-Replayed on the implicit success response', () => {
    const { responses } = operation(document, '/orders', 'post');
    expect(Object.keys(responses)).toEqual(['201', '400', '409', '422', '503']);
    expect(responses).toEqual({
      201: { description: '', headers: REPLAYED },
      400: BAD_KEY,
      409: IN_FLIGHT,
      422: KEY_REUSED,
      503: STORE_UNAVAILABLE,
    });
  });

  it('documents an optional header, and a 400 for invalid keys only, on a route with required: false', () => {
    const put = operation(document, '/orders/{id}', 'put');
    expect(put.parameters).toEqual([
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: KEY_DESCRIPTION + 'Optional: without it the request runs without idempotency.',
        schema: KEY_SCHEMA,
      },
    ]);
    expect(put.responses).toEqual({
      200: { description: '', headers: REPLAYED },
      400: problem(
        'The Idempotency-Key header is invalid: empty, over 255 characters, outside printable ASCII, a broken quoted string, or sent twice.',
        { 'key-invalid': KEY_INVALID },
      ),
      409: IN_FLIGHT,
      422: KEY_REUSED,
      503: STORE_UNAVAILABLE,
    });
  });

  it("keeps the app's own @ApiResponse for a status and adds Idempotent-Replayed to its success response (declared above @Idempotent())", () => {
    const imports = operation(document, '/orders/imports', 'post');
    expect(imports.responses).toEqual({
      201: {
        description: 'The import.',
        headers: REPLAYED,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } },
      },
      400: BAD_KEY,
      409: { description: 'An import of this file is already running.' },
      422: KEY_REUSED,
      503: STORE_UNAVAILABLE,
    });
  });

  it("keeps the app's own @ApiHeader (any case) and 409 declared below @Idempotent(); failOpen documents no 503", () => {
    const exports = operation(document, '/orders/exports', 'post');
    expect(exports.parameters).toEqual([
      { name: 'idempotency-key', in: 'header', description: 'The export id.', required: true, schema: { type: 'string' } },
    ]);
    // The app declared a 409 and no success response: swagger shows none by itself either.
    expect(exports.responses).toEqual({ 400: BAD_KEY, 409: { description: 'An export is already running.' }, 422: KEY_REUSED });
  });

  it('documents no header on a route whose `key` option reads the key from the body', () => {
    const payments = operation(document, '/orders/payments', 'post');
    expect(payments.parameters).toEqual([]);
    expect(payments.responses[400]).toEqual(
      problem("The idempotency key read by the route's `key` option is missing or not 1 to 255 characters.", { 'key-missing': KEY_MISSING }),
    );
    expect(Object.keys(payments.responses)).toEqual(['201', '400', '409', '422', '503']);
  });

  it('adds nothing to routes without @Idempotent()', () => {
    expect(operation(document, '/orders/notes', 'post')).toMatchObject({ parameters: [], responses: { 201: { description: '' } } });
    expect(Object.keys(operation(document, '/orders/notes', 'post').responses)).toEqual(['201']);
    expect(operation(document, '/orders', 'get')).toMatchObject({ parameters: [], responses: { 200: { description: '' } } });
    expect(Object.keys(operation(document, '/orders', 'get').responses)).toEqual(['200']);
  });

  it('documents every route of a class-level @Idempotent() but @SkipIdempotency() and @Sse(); the class\'s own 503 wins', () => {
    const refund = operation(document, '/refunds', 'post');
    expect(refund.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true })]);
    expect(refund.responses).toEqual({
      201: { description: '', headers: REPLAYED },
      400: BAD_KEY,
      409: IN_FLIGHT,
      422: KEY_REUSED,
      503: { description: 'Refunds are paused.' },
    });
    for (const [path, method, status] of [['/refunds/preview', 'post', '201'], ['/refunds/events', 'get', '200']] as const) {
      const skipped = operation(document, path, method);
      expect(skipped.parameters).toEqual([]);
      expect(skipped.responses).toEqual({ [status]: { description: '' }, 503: { description: 'Refunds are paused.' } });
    }
  });

  it("leaves the success response of a controller built with the swagger CLI plugin to the plugin; the class's own @ApiHeader wins", () => {
    const { parameters, responses } = operation(document, '/invoices', 'post');
    expect(parameters).toEqual([{ name: 'IDEMPOTENCY-KEY', in: 'header', description: 'The invoice number.', schema: { type: 'string' } }]);
    expect(responses[201]).toEqual({ description: '', content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } });
    expect(Object.keys(responses).sort()).toEqual(['201', '400', '409', '422', '503']);
  });

  it('writes no swagger metadata on a message handler', () => {
    const handler = ShipmentsController.prototype.ship;
    expect(Reflect.getMetadataKeys(handler).filter((key) => String(key).startsWith('swagger/'))).toEqual([]);
  });
});

describe('OpenAPI document with the module options of forRootAsync()', () => {
  it('names the configured header and follows the module-wide required, replacing what an earlier app documented', async () => {
    const options: IdempotencyModuleOptions = { store: new InMemoryIdempotencyStore(), header: 'X-Request-Key', required: false };
    const document = await documentApp(IdempotencyModule.forRootAsync({ useFactory: () => options }));
    const post = operation(document, '/orders', 'post');
    expect(post.parameters).toEqual([
      {
        name: 'X-Request-Key',
        in: 'header',
        required: false,
        description: KEY_DESCRIPTION + 'Optional: without it the request runs without idempotency.',
        schema: KEY_SCHEMA,
      },
    ]);
    expect(post.responses[400]).toMatchObject({
      description:
        'The X-Request-Key header is invalid: empty, over 255 characters, outside printable ASCII, a broken quoted string, or sent twice.',
    });
    expect(Object.keys(post.responses)).toEqual(['201', '400', '409', '422', '503']);
  });
});
