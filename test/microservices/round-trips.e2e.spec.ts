import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Idempotent } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPostgresWireCounter, type PostgresWireCounter } from '../support/postgres-wire-counter.js';
import { scratchName } from './support/brokers.js';
import { requestIdKey, type TestMessage } from './support/message.controller.js';
import { MessageModule } from './support/message.module.js';
import { bootMicroservice } from './support/microservice.js';
import { tcpTransport, type AnyClient } from './support/transports.js';

// The statements of the TypeORM store, recognised by their first lines. Message handlers wait for an
// in-flight first delivery by default (PG LISTEN/NOTIFY), so the completion also wakes waiters.
const CLAIM = /^WITH inserted AS \(\s+INSERT INTO "idempotency_records"/;
const COMPLETE = /^WITH written AS \(\s+UPDATE "idempotency_records"\s+SET status = 'completed'[\s\S]*SELECT pg_notify\(/;

/** A message handler with no database work of its own: every round trip counted is the library's. */
@Controller()
class EchoMessages {
  @MessagePattern('echo')
  @Idempotent({ key: requestIdKey })
  echo(@Payload() data: TestMessage) {
    return data;
  }
}

/** The round trips to PostgreSQL per message (TCP), counted on the wire through a proxy that parses the protocol. */
describe('round trips to PostgreSQL per @MessagePattern message', () => {
  const tcp = tcpTransport();
  let database: TestDatabase;
  let wire: PostgresWireCounter;
  let app: INestMicroservice;
  let client: AnyClient;
  const send = (data: TestMessage) => lastValueFrom(client.send('echo', tcp.message(data, data.requestId)));

  beforeAll(async () => {
    database = await createTestDatabase();
    wire = await startPostgresWireCounter(database.url);
    app = await bootMicroservice([MessageModule.forRoot(wire.url, [EchoMessages])], tcp.server());
    client = tcp.client(app);
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await wire?.close();
    await database?.drop();
  });

  beforeEach(() => wire.reset());

  it('costs 2 round trips for a first message: claim, then complete', async () => {
    const data = { requestId: scratchName('trip'), n: 1 };
    expect(await send(data)).toEqual(data);
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(COMPLETE)]);
  });

  it('costs 1 round trip for a duplicate: the claim that finds the completed record', async () => {
    const data = { requestId: scratchName('trip'), n: 2 };
    const first = await send(data);
    wire.reset();
    expect(await send(data)).toEqual(first);
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM)]);
  });
});
