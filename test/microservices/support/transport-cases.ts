import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { IdempotencyStore } from '../../../lib/index.js';
import { Executions } from '../../fixtures/executions.js';
import { Gates } from '../../fixtures/gates.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { scratchName } from './brokers.js';
import { Deliveries } from './deliveries.js';
import { messageController, patternsOf, type TestMessage, type TestReply } from './message.controller.js';
import { MessageModule } from './message.module.js';
import { bootMicroservice } from './microservice.js';
import type { AnyClient, MessageTransport } from './transports.js';
import { Watches } from '../../support/watches.js';

let keySequence = 0;
const newKey = () => `${scratchName('msg')}-${++keySequence}`;

/** The cases every transport passes: replay, skipped events, key reuse, in-flight duplicates. */
export function describeMessageTransport(transport: () => MessageTransport) {
  const prefix = scratchName('ms');
  const patterns = patternsOf(prefix);

  describe(`@Idempotent() message handlers over ${transport().name}`, () => {
    let database: TestDatabase;
    let app: INestMicroservice;
    let client: AnyClient;
    let under: MessageTransport;
    let executions: Executions;
    let watches: Watches;
    let deliveries: Deliveries;

    const send = (pattern: string, data: TestMessage, id = data.requestId) =>
      lastValueFrom(client.send<TestReply>(pattern, under.message(data, id)));
    const emit = (pattern: string, data: TestMessage) => lastValueFrom(client.emit(pattern, under.message(data, data.requestId)), { defaultValue: undefined });
    const rows = (handler: string, key: string) => executions.count(`${handler}:${key}`);

    beforeAll(async () => {
      under = transport();
      database = await createTestDatabase();
      const server = under.server();
      deliveries = new Deliveries(server);
      app = await bootMicroservice([MessageModule.forRoot(database.url, [messageController(prefix, under.key)])], server);
      await app.get(DataSource).query(Executions.ddl);
      executions = app.get(Executions);
      watches = new Watches(app.get(IdempotencyStore));
      client = under.client(app);
      await client.connect();
    });

    afterAll(async () => {
      await client?.close();
      await app?.close();
      await database?.drop();
    });

    it('@MessagePattern: a duplicate gets the stored reply; the handler ran once', async () => {
      const key = newKey();
      const first = await send(patterns.echo, { requestId: key, n: 1 });
      const duplicate = await send(patterns.echo, { requestId: key, n: 1 });
      expect(duplicate).toEqual(first);
      expect(first.n).toBe(1);
      expect(await rows('echo', key)).toBe(1);
    });

    it('the `key` option: two messages with other message ids but one request id are one', async () => {
      const key = newKey();
      const first = await send(patterns.keyed, { requestId: key, n: 1 }, `${key}-a`);
      const duplicate = await send(patterns.keyed, { requestId: key, n: 1 }, `${key}-b`);
      expect(duplicate).toEqual(first);
      expect(await rows('keyed', key)).toBe(1);
    });

    it('@EventPattern: a duplicate is skipped (handled, the handler not run)', async () => {
      const key = newKey();
      const before = deliveries.count;
      await emit(patterns.event, { requestId: key });
      await emit(patterns.event, { requestId: key });
      await deliveries.reached(before + 2); // both deliveries done with, the duplicate too
      expect(await rows('event', key)).toBe(1);
    });

    it('the same key with other data: the caller gets IDEMPOTENCY_KEY_REUSED', async () => {
      const key = newKey();
      await send(patterns.echo, { requestId: key, n: 1 });
      await expect(send(patterns.echo, { requestId: key, n: 2 })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
      expect(await rows('echo', key)).toBe(1);
    });

    it('a duplicate while the first is in flight, with wait 0: IDEMPOTENCY_KEY_IN_FLIGHT', async () => {
      const key = newKey();
      const gate = app.get(Gates).of(key);
      const first = send(patterns.held, { requestId: key });
      await gate.arrived(1);
      await expect(send(patterns.held, { requestId: key })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT', status: 409 });
      gate.open();
      expect(await first).toEqual({ execution: expect.any(Number) });
      expect(await rows('held', key)).toBe(1);
    });

    it('a duplicate while the first is in flight, with a wait: it gets the first reply once the first completes', async () => {
      const key = newKey();
      const gate = app.get(Gates).of(key);
      const first = send(patterns.heldWaiting, { requestId: key });
      await gate.arrived(1);
      watches.reset();
      const duplicate = send(patterns.heldWaiting, { requestId: key });
      await watches.reached(1); // the duplicate waits for the first's outcome
      gate.open();
      const [original, waited] = await Promise.all([first, duplicate]);
      expect(waited).toEqual(original);
      expect(await rows('heldWaiting', key)).toBe(1);
    });
  });
}
