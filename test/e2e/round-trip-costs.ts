import { expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Gate } from '../fixtures/gate.js';
import type { WireCounter } from '../support/wire-counter.js';

/** What {@link itCostsRoundTrips} checks: an app whose database connection goes through `wire`. */
export interface RoundTripCosts {
  /** The app, booted with the fixture routes (`/echo`, `/echo/fail`, `/slow` behind its `Gate`). */
  app: () => INestApplication;
  wire: () => WireCounter;
  /** The round trips of one claim, as matchers. */
  claim: unknown[];
  complete: RegExp;
  release: RegExp;
  newKey: () => string;
}

const trips = (count: number) => `${count} round trip${count === 1 ? '' : 's'}`;

/**
 * The round trips per request of the describe it is called in, the wire reset
 * before each test: those of a claim, then a completion or a release. The
 * routes used do no database work of their own (`/slow` none until its gate
 * opens), so every round trip counted is the library's.
 */
export function itCostsRoundTrips({ app, wire, claim, complete, release, newKey }: RoundTripCosts): void {
  const http = () => request(app().getHttpServer());

  it(`costs ${trips(claim.length + 1)} for a first execution: claim, then complete`, async () => {
    const response = await http().post('/echo').set('Idempotency-Key', newKey()).send({ n: 1 });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ n: 1 });
    expect(wire().roundTrips).toEqual([...claim, expect.stringMatching(complete)]);
  });

  it(`costs ${trips(claim.length)} for a replay: the claim that finds the completed record`, async () => {
    const key = newKey();
    const first = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    wire().reset();
    const replay = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(wire().roundTrips).toEqual(claim);
  });

  it(`costs ${trips(claim.length)} for a 409 while the first request is in flight`, async () => {
    const key = newKey();
    const gate = app().get(Gate);
    const held = http().post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
    await gate.arrived(1); // its claim is done; it does no database work until the gate opens
    wire().reset();
    const conflict = await http().post('/slow').set('Idempotency-Key', key).send({});
    const sent = [...wire().roundTrips];
    gate.open();
    expect((await held).status).toBe(201);
    expect(conflict.status).toBe(409);
    expect(sent).toEqual(claim);
  });

  it(`costs ${trips(claim.length)} for a 422 when the key comes with another payload`, async () => {
    const key = newKey();
    await http().post('/echo').set('Idempotency-Key', key).send({ n: 3 }).expect(201);
    wire().reset();
    const mismatch = await http().post('/echo').set('Idempotency-Key', key).send({ n: 4 });
    expect(mismatch.status).toBe(422);
    expect(wire().roundTrips).toEqual(claim);
  });

  it(`costs ${trips(claim.length + 1)} for a released 5xx outcome: claim, then release`, async () => {
    const key = newKey();
    const failure = await http().post('/echo/fail').set('Idempotency-Key', key).send({});
    expect(failure.status).toBe(503);
    expect(failure.body.message).toBe('echo failed');
    expect(wire().roundTrips).toEqual([...claim, expect.stringMatching(release)]);

    wire().reset();
    const retry = await http().post('/echo/fail').set('Idempotency-Key', key).send({});
    expect(retry.status).toBe(503);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(wire().roundTrips).toEqual([...claim, expect.stringMatching(release)]);
  });

  it('sends nothing to the database for a request rejected for its missing key', async () => {
    const response = await http().post('/echo').send({});
    expect(response.status).toBe(400);
    expect(wire().roundTrips).toEqual([]);
  });
}
