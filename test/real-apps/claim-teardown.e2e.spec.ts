import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import request from 'supertest';
import { IdempotencyModule, Idempotent, InMemoryIdempotencyStore, type ClaimRequest, type ClaimResult } from '../../lib/index.js';
import { ADAPTERS } from '../support/app.js';
import { TimeoutInterceptor } from './fixtures/timeout.interceptor.js';
import { bootRealApp } from './support/boot.js';
import { newKey, pollUntil } from './support/requests.js';

/** An in-memory store whose claims wait until the test lets them through. */
class HeldClaimStore extends InMemoryIdempotencyStore {
  private held: (() => void)[] = [];
  private holding = true;
  private arrivals: (() => void)[] = [];

  override async claim(claim: ClaimRequest): Promise<ClaimResult> {
    if (this.holding) {
      this.arrivals.forEach((arrived) => arrived());
      await new Promise<void>((resolve) => this.held.push(resolve));
    }
    return super.claim(claim);
  }

  /** Resolves once a claim is waiting. */
  arrived(): Promise<void> {
    return this.held.length > 0 ? Promise.resolve() : new Promise((resolve) => this.arrivals.push(resolve));
  }

  /** Lets every waiting and later claim through. */
  letThrough(): void {
    this.holding = false;
    this.held.splice(0).forEach((resolve) => resolve());
  }
}

let runs = 0;

@Controller('charges')
class ChargesController {
  @Post()
  @Idempotent()
  charge() {
    return { run: ++runs };
  }
}

/**
 * An outer `timeout()` that fires while the key is still being claimed tears
 * the request down before the handler ran: the claim that lands afterwards is
 * released at once, so the key is not stuck and a retry runs the handler.
 */
describe.each(ADAPTERS)('a request torn down during its claim (%s)', (adapter) => {
  const store = new HeldClaimStore();
  let app: INestApplication;

  @Module({
    imports: [IdempotencyModule.forRoot({ store })],
    controllers: [ChargesController],
    // In the root module: outside the library's interceptor.
    providers: [{ provide: APP_INTERCEPTOR, useValue: new TimeoutInterceptor(200) }],
  })
  class ClaimTeardownApp {}

  beforeAll(async () => {
    runs = 0;
    app = await bootRealApp(adapter, [ClaimTeardownApp]);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('releases the key claimed after the teardown, without running the handler, so a retry runs it once', async () => {
    const key = newKey('claim-teardown');
    const first = request(app.getHttpServer()).post('/charges').set('Idempotency-Key', key).send({}).then((r) => r);
    await store.arrived();
    expect((await first).status).toBe(408); // the outer timeout fired while the claim waited
    store.letThrough(); // the claim now lands, after its request was torn down
    const answers = await pollUntil(
      () => request(app.getHttpServer()).post('/charges').set('Idempotency-Key', key).send({}),
      (response) => response.status === 201,
      5_000,
      50,
    );
    const ran = answers.at(-1)!;
    expect(ran.status).toBe(201);
    expect(ran.headers['idempotent-replayed']).toBeUndefined();
    expect(ran.body).toEqual({ run: 1 });
    const replay = await request(app.getHttpServer()).post('/charges').set('Idempotency-Key', key).send({});
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(runs).toBe(1);
  });
});
