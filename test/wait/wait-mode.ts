import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, Post, Query, ServiceUnavailableException, type DynamicModule, type INestApplication } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Idempotent, IdempotencyModule, IdempotencyRecord, IdempotencyStore, type IdempotencyModuleOptions } from '../../lib/index.js';
import { bootApp, type AdapterName } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Executions } from '../fixtures/executions.js';
import { Gates } from '../fixtures/gates.js';
import { Watches } from '../support/watches.js';

@Controller('wait')
class WaitController {
  constructor(
    private readonly executions: Executions,
    private readonly gates: Gates,
  ) {}

  /** Held at the gate named by `?gate=`; the module's `wait` applies. */
  @Post('held')
  async held(@Query('gate') gate: string) {
    await this.gates.of(gate).pass();
    return { execution: await this.executions.record(gate), at: process.hrtime.bigint().toString() };
  }

  /** The first execution answers 503 (released, not stored); later ones succeed. */
  @Post('fails-once')
  async failsOnce() {
    await this.gates.of('fails-once').pass();
    const execution = await this.executions.record('fails-once');
    if ((await this.executions.count('fails-once')) === 1) throw new ServiceUnavailableException('first one fails');
    return { execution };
  }

  /** Waits at most 300 ms, whatever the module or the client ask. */
  @Post('capped')
  @Idempotent({ wait: 300 })
  async capped() {
    await this.gates.of('capped').pass();
    return { execution: await this.executions.record('capped') };
  }

  /** Never waits. */
  @Post('no-wait')
  @Idempotent({ wait: 0 })
  async noWait() {
    await this.gates.of('no-wait').pass();
    return { execution: await this.executions.record('no-wait') };
  }
}

@Module({})
class WaitModule {
  static forRoot(url: string, options: IdempotencyModuleOptions): DynamicModule {
    return {
      module: WaitModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot(options),
      ],
      controllers: [WaitController],
      providers: [Executions, Gates],
    };
  }
}
Idempotent()(WaitController);

const WAIT = 20_000;
let keySequence = 0;
const newKey = () => `wait-${process.pid}-${++keySequence}`;

/**
 * Wait mode (DESIGN.md §9) over HTTP on `adapter`, with the store
 * `storeOptions` gives (the default TypeORM store on PostgreSQL when none):
 * duplicates of a request in flight wait for its outcome, woken by the
 * store, up to the `wait` option or the client's `Prefer: wait`.
 */
export function describeWaitMode(storeName: string, adapter: AdapterName, storeOptions: () => IdempotencyModuleOptions = () => ({})) {
  describe(`wait mode on ${storeName} (${adapter})`, () => {
    let database: TestDatabase;
    let app: INestApplication;
    let executions: Executions;
    let gates: Gates;
    let watches: Watches;
    const post = (path: string, key: string) => request(app.getHttpServer()).post(`/wait/${path}`).set('Idempotency-Key', key);

    beforeAll(async () => {
      database = await createTestDatabase();
      app = await bootApp(adapter, [WaitModule.forRoot(database.url, { wait: WAIT, ...storeOptions() })]);
      await app.get(DataSource).query(Executions.ddl);
      executions = app.get(Executions);
      gates = app.get(Gates);
      watches = new Watches(app.get(IdempotencyStore));
    });

    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('answers 50 concurrent duplicates with the original response, byte for byte, once it completes; the handler runs once', async () => {
      const key = newKey();
      watches.reset();
      const original = post('held?gate=fifty', key).then((r) => r);
      await gates.of('fifty').arrived(1);
      const duplicates = Array.from({ length: 50 }, () => post('held?gate=fifty', key).then((r) => r));
      await watches.reached(50);
      gates.of('fifty').open();
      const [first, ...waited] = await Promise.all([original, ...duplicates]);
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      for (const response of waited) {
        expect(response.status).toBe(201);
        expect(response.headers['idempotent-replayed']).toBe('true');
        expect(response.text).toBe(first.text);
        expect(response.headers['content-type']).toBe(first.headers['content-type']);
      }
      expect(await executions.count('fifty')).toBe(1);
    });

    it('wakes the duplicates of an original that is released (not stored): one of them runs, the others get its response', async () => {
      const key = newKey();
      watches.reset();
      const original = post('fails-once', key).then((r) => r);
      await gates.of('fails-once').arrived(1);
      const duplicates = Array.from({ length: 10 }, () => post('fails-once', key).then((r) => r));
      await watches.reached(10);
      gates.of('fails-once').open();
      const [first, ...waited] = await Promise.all([original, ...duplicates]);
      expect(first.status).toBe(503);
      const ran = waited.filter((r) => r.headers['idempotent-replayed'] === undefined);
      expect(ran).toHaveLength(1);
      for (const response of waited) {
        expect(response.status).toBe(201);
        expect(response.text).toBe(ran[0].text);
      }
      expect(await executions.count('fails-once')).toBe(2);
    });

    it('answers 409 with Retry-After when the wait runs out (the route caps it), and never runs the handler twice', async () => {
      const key = newKey();
      const original = post('capped', key).then((r) => r);
      await gates.of('capped').arrived(1);
      const duplicate = await post('capped', key).set('Prefer', 'wait=60');
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(duplicate.headers['retry-after']).toBe('1');
      expect(duplicate.body.type).toMatch(/key-in-flight$/);
      gates.of('capped').open();
      expect((await original).status).toBe(201);
      expect(await executions.count('capped')).toBe(1);
    });

    it('waits no longer than the client asks with Prefer: wait=<seconds>, and not at all with wait=0', async () => {
      const key = newKey();
      const original = post('held?gate=prefer', key).then((r) => r);
      await gates.of('prefer').arrived(1);
      watches.reset();
      const none = await post('held?gate=prefer', key).set('Prefer', 'wait=0');
      expect(none.status).toBe(409);
      expect(watches.count).toBe(0);
      const started = Date.now();
      const short = await post('held?gate=prefer', key).set('Prefer', 'respond-async, wait=1');
      expect(short.status).toBe(409);
      expect(watches.count).toBe(1);
      expect(Date.now() - started).toBeLessThan(WAIT / 2); // the client's 1 s, not the server's 20 s
      gates.of('prefer').open();
      const first = await original;
      const retry = await post('held?gate=prefer', key);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.text).toBe(first.text);
      expect(await executions.count('prefer')).toBe(1);
    });

    it('answers 409 at once on a route with wait: 0, without listening', async () => {
      const key = newKey();
      const original = post('no-wait', key).then((r) => r);
      await gates.of('no-wait').arrived(1);
      watches.reset();
      const duplicate = await post('no-wait', key);
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers['retry-after']).toBe('1');
      expect(watches.count).toBe(0);
      gates.of('no-wait').open();
      expect((await original).status).toBe(201);
      expect(await executions.count('no-wait')).toBe(1);
    });
  });
}
