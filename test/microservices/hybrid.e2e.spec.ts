import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { Executions } from '../fixtures/executions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { scratchName } from './support/brokers.js';
import { messageController, patternsOf, type TestReply } from './support/message.controller.js';
import { MessageModule } from './support/message.module.js';
import { LOGGER } from './support/microservice.js';
import { tcpTransport, type AnyClient } from './support/transports.js';

/**
 * A hybrid app: HTTP, with a TCP microservice attached WITHOUT
 * `inheritAppConfig`, so it gets none of the app's global interceptors:
 * `@Idempotent()` protects its handlers all the same.
 */
describe('@Idempotent() in a microservice attached without inheritAppConfig', () => {
  const tcp = tcpTransport();
  const patterns = patternsOf('hybrid');
  let database: TestDatabase;
  let app: INestApplication;
  let client: AnyClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [MessageModule.forRoot(database.url, [messageController('hybrid', tcp.key)])],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: LOGGER });
    const microservice = app.connectMicroservice({ strategy: tcp.server() }); // no inheritAppConfig
    await app.startAllMicroservices();
    await app.init();
    await app.get(DataSource).query(Executions.ddl);
    client = tcp.client(microservice);
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await database?.drop();
  });

  it('replays a duplicate message: the handler ran once', async () => {
    const requestId = scratchName('hybrid');
    const first = await lastValueFrom(client.send<TestReply>(patterns.echo, { requestId, n: 1 }));
    const replay = await lastValueFrom(client.send<TestReply>(patterns.echo, { requestId, n: 1 }));
    expect(replay).toEqual(first);
    expect(await app.get(Executions).count(`echo:${requestId}`)).toBe(1);
  });
});
