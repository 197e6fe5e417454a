import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { IdempotencyModule, Idempotent, InMemoryIdempotencyStore } from '../../lib/index.js';
import { ADAPTERS } from '../support/app.js';
import { bootRealApp } from './support/boot.js';
import { newKey } from './support/requests.js';

let runs = 0;

@Controller('orders')
class OrdersController {
  @Post()
  @Idempotent()
  create() {
    return { run: ++runs };
  }
}

@Module({ imports: [IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore() })], controllers: [OrdersController] })
class HeadersAppModule {}

let requestSequence = 0;

/**
 * A replay carries the stored status, body and `replayHeaders`, and otherwise
 * the headers the app sets for the request being answered: CORS for its own
 * origin, its own request id. Never the first request's.
 */
describe.each(ADAPTERS)('headers of a replay (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    runs = 0;
    app = await bootRealApp(adapter, [HeadersAppModule], {
      configure: (nest) => {
        nest.enableCors({ origin: true, exposedHeaders: ['X-Request-Id'] }); // reflects the request's Origin
        // A request id per request, as a middleware would set it.
        const setRequestId = (response: { setHeader(name: string, value: string): void }) =>
          response.setHeader('X-Request-Id', `req-${++requestSequence}`);
        const http = nest.getHttpAdapter().getInstance();
        if (adapter === 'fastify') http.addHook('onRequest', async (_request: unknown, reply: { raw: never }) => setRequestId(reply.raw));
        else nest.use((_request: unknown, response: never, next: () => void) => (setRequestId(response), next()));
      },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('keeps the CORS headers and request id of the replayed request, and the stored body', async () => {
    const key = newKey('replay-headers');
    const post = (origin: string) =>
      request(app.getHttpServer()).post('/orders').set('Idempotency-Key', key).set('Origin', origin).send({});
    const first = await post('https://shop.example');
    const replay = await post('https://admin.example');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(first.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(replay.headers['access-control-allow-origin']).toBe('https://admin.example');
    expect(first.headers['x-request-id']).toMatch(/^req-\d+$/);
    expect(replay.headers['x-request-id']).toMatch(/^req-\d+$/);
    expect(replay.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(replay.headers['content-length']).toBe(first.headers['content-length']);
    expect(runs).toBe(1);
  });
});
