import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  createDynamoDbIdempotencyTable,
  DynamoDbIdempotencyStore,
  MAX_DYNAMODB_RESPONSE_BYTES,
} from '../../lib/stores/dynamodb/index.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { Gate } from '../fixtures/gate.js';
import { bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CommandCounter, Dynalite, returnOldItemOnConditionFailure, uniqueTable } from '../support/dynalite.js';
import { describeHttpSemantics } from './http-semantics.js';

describe('DynamoDB on dynalite', () => {
  let dynalite: Dynalite;
  let client: DynamoDBClient;
  const table = uniqueTable();

  beforeAll(async () => {
    dynalite = await Dynalite.start();
    client = dynalite.client();
    await createDynamoDbIdempotencyTable(client, table);
  });

  afterAll(async () => {
    client?.destroy();
    await dynalite?.stop();
  });

  // The store's largest maxResponseBytes: the module default (1 MiB) does not fit in a 400 KB item.
  describeHttpSemantics('DynamoDbIdempotencyStore', () => ({
    store: new DynamoDbIdempotencyStore(client, { table }),
    maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES,
  }));

  // DESIGN.md §3: a first execution costs 2 calls (claim, complete), a replay 1 —
  // on DynamoDB, which returns the item in the way with the failed condition.
  // On dynalite, which does not, a refused claim costs one GetItem more.
  describe.each([
    ['dynalite', false, { PutItemCommand: 1, GetItemCommand: 1 }],
    ['DynamoDB (the item returned with the failed condition, emulated)', true, { PutItemCommand: 1 }],
  ])('calls per HTTP request, %s', (_path, returnsOldItem, refusedClaim) => {
    let database: TestDatabase;
    let app: INestApplication;
    let appClient: DynamoDBClient;
    let counter: CommandCounter;
    let stopEmulation = () => {};
    let keys = 0;
    const newKey = () => `calls-${returnsOldItem}-${++keys}`;
    const http = () => request(app.getHttpServer());

    beforeAll(async () => {
      database = await createTestDatabase();
      appClient = dynalite.client();
      if (returnsOldItem) stopEmulation = returnOldItemOnConditionFailure(appClient, dynalite.endpoint);
      const store = new DynamoDbIdempotencyStore(appClient, { table });
      app = await bootApp('express', [FixtureModule.forRoot(database.url, { store, maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES })]);
      await app.get(DataSource).query(Executions.ddl);
      counter = new CommandCounter(appClient);
    });

    afterAll(async () => {
      await app?.close();
      stopEmulation();
      appClient?.destroy();
      await database?.drop();
    });

    it('costs 2 calls for a first execution: PutItem (claim), then UpdateItem (complete)', async () => {
      counter.take();
      const response = await http().post('/echo').set('Idempotency-Key', newKey()).send({ n: 1 });
      expect(response.status).toBe(201);
      expect(counter.take()).toEqual({ PutItemCommand: 1, UpdateItemCommand: 1 });
    });

    it(`costs ${Object.values(refusedClaim).length} call(s) for a replay: the refused claim`, async () => {
      const key = newKey();
      const first = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
      counter.take();
      const replay = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.text).toBe(first.text);
      expect(counter.take()).toEqual(refusedClaim);
    });

    it('costs the same for a 409 while the first request is in flight', async () => {
      const key = newKey();
      const gate = app.get(Gate);
      const held = http().post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
      await gate.arrived(1);
      counter.take();
      const conflict = await http().post('/slow').set('Idempotency-Key', key).send({});
      const calls = counter.take();
      gate.open();
      expect((await held).status).toBe(201);
      expect(conflict.status).toBe(409);
      expect(calls).toEqual(refusedClaim);
    });

    it('costs 2 calls for a released 5xx: PutItem (claim), then DeleteItem (release)', async () => {
      counter.take();
      await http().post('/echo/fail').set('Idempotency-Key', newKey()).send({}).expect(503);
      expect(counter.take()).toEqual({ PutItemCommand: 1, DeleteItemCommand: 1 });
    });
  });
});
