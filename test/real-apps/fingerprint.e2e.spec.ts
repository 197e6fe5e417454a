import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FingerprintAppModule } from './fixtures/fingerprint.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootRealApp } from './support/boot.js';
import { newKey, PROBLEM_JSON, recordsOf } from './support/requests.js';

/**
 * What happens to one key sent with one body, then with another:
 * - `fingerprinted`: the library sees the body; the same body replays, another answers 422;
 * - `not-fingerprintable`: the library cannot see the body and refuses it with 415;
 * - `adapter-415`: the HTTP adapter itself refuses the media type before any handler.
 */
type Outcome = 'fingerprinted' | 'not-fingerprintable' | 'adapter-415';

const OUTCOME_NAMES: Record<Outcome, string> = {
  fingerprinted: 'the same body replays, another body answers 422 key-reused',
  'not-fingerprintable': '415 body-not-fingerprintable for every body, the handler never runs',
  'adapter-415': 'the adapter refuses the media type with 415, the handler never runs',
};

interface PayloadCase {
  contentType: string;
  body: string;
  otherBody: string;
  outcome: Record<AdapterName, Outcome>;
}

const JSON_API = 'application/vnd.api+json';
const jsonApi = (amount: number) => JSON.stringify({ data: { type: 'payments', attributes: { amount } } });

/** Nest's default body parsers only (json and urlencoded; Fastify adds text/plain). */
const DEFAULT_PARSER_CASES: PayloadCase[] = [
  {
    contentType: 'application/json',
    body: '{"amount":10}',
    otherBody: '{"amount":11}',
    outcome: { express: 'fingerprinted', fastify: 'fingerprinted' },
  },
  {
    contentType: 'application/x-www-form-urlencoded',
    body: 'amount=10',
    otherBody: 'amount=11',
    outcome: { express: 'fingerprinted', fastify: 'fingerprinted' },
  },
  {
    contentType: 'text/plain',
    body: 'pay 10 to carol',
    otherBody: 'pay 11 to carol',
    outcome: { express: 'not-fingerprintable', fastify: 'fingerprinted' },
  },
  {
    contentType: JSON_API,
    body: jsonApi(10),
    otherBody: jsonApi(11),
    outcome: { express: 'not-fingerprintable', fastify: 'adapter-415' },
  },
  {
    contentType: 'application/xml',
    body: '<payment amount="10"/>',
    otherBody: '<payment amount="11"/>',
    outcome: { express: 'not-fingerprintable', fastify: 'adapter-415' },
  },
];

/**
 * `rawBody: true`, plus a text parser and a JSON parser for `application/vnd.api+json`
 * on Express; on Fastify a JSON parser for it and a parser that keeps XML as a Buffer.
 */
const CONFIGURED_PARSER_CASES: PayloadCase[] = [
  {
    contentType: 'text/plain',
    body: 'pay 10 to carol',
    otherBody: 'pay 11 to carol',
    outcome: { express: 'fingerprinted', fastify: 'fingerprinted' },
  },
  {
    contentType: JSON_API,
    body: jsonApi(10),
    otherBody: jsonApi(11),
    outcome: { express: 'fingerprinted', fastify: 'fingerprinted' },
  },
  {
    // Express keeps raw bodies only for the types it parses: rawBody does not help XML.
    contentType: 'application/xml',
    body: '<payment amount="10"/>',
    otherBody: '<payment amount="11"/>',
    outcome: { express: 'not-fingerprintable', fastify: 'fingerprinted' },
  },
];

function configureParsers(app: INestApplication, adapter: AdapterName): void {
  if (adapter === 'express') {
    const express = app as NestExpressApplication;
    express.useBodyParser('text');
    express.useBodyParser('json', { type: JSON_API });
  } else {
    const fastify = app as NestFastifyApplication;
    fastify.useBodyParser(JSON_API, {}, (_request, body, done) => {
      try {
        done(null, JSON.parse(body.toString('utf8')));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    fastify.useBodyParser('application/xml'); // no parser: the body is the raw Buffer
  }
}

function expectProblem(response: request.Response, status: number, type: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(response.body).toMatchObject({ type: `urn:nestjs-idempotency:${type}`, status, title: expect.any(String) });
}

describe.each(ADAPTERS)('the payload is in the fingerprint, whatever its type (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let configured: INestApplication;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootRealApp(adapter, [FingerprintAppModule.forRoot(database.url, adapter)]);
    configured = await bootRealApp(adapter, [FingerprintAppModule.forRoot(database.url, adapter)], {
      options: { rawBody: true },
      configure: configureParsers,
    });
  });

  afterAll(async () => {
    await app?.close();
    await configured?.close();
    await database?.drop();
  });

  async function checkOutcome(target: INestApplication, payload: PayloadCase): Promise<void> {
    const runs = target.get(RunLog);
    const key = newKey();
    const before = runs.count('documents');
    const send = (body: string) =>
      request(target.getHttpServer())
        .post('/fp/documents')
        .set('Idempotency-Key', key)
        .set('Content-Type', payload.contentType)
        .send(body);
    const first = await send(payload.body);
    const outcome = payload.outcome[adapter];
    if (outcome === 'fingerprinted') {
      expect(first.status).toBe(201);
      const same = await send(payload.body);
      expect(same.headers['idempotent-replayed']).toBe('true');
      expect(same.text).toBe(first.text);
      expectProblem(await send(payload.otherBody), 422, 'key-reused');
      expect(runs.count('documents')).toBe(before + 1);
      return;
    }
    const other = await send(payload.otherBody);
    const again = await send(payload.body);
    for (const response of [first, other, again]) {
      if (outcome === 'not-fingerprintable') expectProblem(response, 415, 'body-not-fingerprintable');
      else expect(response.status).toBe(415);
      expect(response.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(runs.count('documents')).toBe(before);
    expect(await recordsOf(target, key)).toEqual([]);
  }

  it.each(DEFAULT_PARSER_CASES.map((payload) => [payload.contentType, OUTCOME_NAMES[payload.outcome[adapter]], payload] as const))(
    'default parsers, %s: %s',
    async (_contentType, _outcome, payload) => {
      await checkOutcome(app, payload);
    },
  );

  it.each(CONFIGURED_PARSER_CASES.map((payload) => [payload.contentType, OUTCOME_NAMES[payload.outcome[adapter]], payload] as const))(
    'rawBody: true and extra parsers, %s: %s',
    async (_contentType, _outcome, payload) => {
      await checkOutcome(configured, payload);
    },
  );

  it('a POST with no body at all is not refused: it runs once and replays', async () => {
    const runs = app.get(RunLog);
    const key = newKey();
    const before = runs.count('documents');
    const first = await request(app.getHttpServer()).post('/fp/documents').set('Idempotency-Key', key);
    expect(first.status).toBe(201);
    const retry = await request(app.getHttpServer()).post('/fp/documents').set('Idempotency-Key', key);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(runs.count('documents')).toBe(before + 1);
  });

  if (adapter === 'express') {
    it('multipart/form-data with FileInterceptor on the route (Express only; multer runs inside the library): 415 body-not-fingerprintable for any file, never a replay, the handler never runs', async () => {
      const runs = app.get(RunLog);
      const key = newKey();
      const upload = (content: string) =>
        request(app.getHttpServer())
          .post('/fp/uploads')
          .set('Idempotency-Key', key)
          .field('title', 'invoice')
          .attach('file', Buffer.from(content), { filename: 'invoice.txt', contentType: 'text/plain' });
      const first = await upload('amount: 10');
      const other = await upload('amount: 11');
      const again = await upload('amount: 10');
      for (const response of [first, other, again]) {
        expectProblem(response, 415, 'body-not-fingerprintable');
        expect(response.headers['idempotent-replayed']).toBeUndefined();
      }
      expect(runs.count('uploads')).toBe(0);
      expect(await recordsOf(app, key)).toEqual([]);
    });
  }
});
