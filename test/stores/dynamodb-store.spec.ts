import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import {
  IdempotencyConfigurationError,
  IdempotencyStoreConnectionError,
  type ClaimResult,
  type ExistingRecord,
  type IdempotencyRecordId,
  type StoredResponse,
} from '../../lib/index.js';
import { classifyDynamoDbError } from '../../lib/stores/dynamodb/dynamodb-errors.js';
import { partitionKeyOf } from '../../lib/stores/dynamodb/dynamodb-keys.js';
import {
  createDynamoDbIdempotencyTable,
  DynamoDbIdempotencyStore,
  MAX_DYNAMODB_RESPONSE_BYTES,
  type DynamoDbIdempotencyStoreOptions,
} from '../../lib/stores/dynamodb/index.js';
import {
  CommandCounter,
  Dynalite,
  dynaliteClient,
  returnOldItemOnConditionFailure,
  uniqueTable,
  unreachableEndpoint,
} from '../support/dynalite.js';

const ID: IdempotencyRecordId = { scope: 'POST /orders', principal: 'alice', key: 'key-1' };
const LONG = 60_000;
const claimOf = (id: IdempotencyRecordId, lockTimeout = LONG, fingerprint = 'fp') => ({ ...id, fingerprint, token: randomUUID(), lockTimeout });
const response = (body: Buffer | null, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }): StoredResponse => ({
  status: 200,
  headers,
  body,
});

function existingOf(result: ClaimResult): ExistingRecord {
  if (result.claimed || !result.existing) throw new Error(`expected a record in the way, got ${JSON.stringify(result)}`);
  return result.existing;
}

describe('DynamoDbIdempotencyStore on dynalite', () => {
  let dynalite: Dynalite;
  let client: DynamoDBClient;
  let counter: CommandCounter;

  /** A store on a new table of its own. */
  const freshStore = async (options: Omit<DynamoDbIdempotencyStoreOptions, 'table'> = {}, on = client) => {
    const table = uniqueTable();
    await createDynamoDbIdempotencyTable(client, table);
    return { table, store: new DynamoDbIdempotencyStore(on, { table, ...options }) };
  };

  beforeAll(async () => {
    dynalite = await Dynalite.start();
    client = dynalite.client();
    counter = new CommandCounter(client);
  });

  afterAll(async () => {
    client?.destroy();
    await dynalite?.stop();
  });

  describe('calls per operation (counted by a client middleware)', () => {
    it('costs one call per operation; a refused claim costs one more on dynalite: a consistent GetItem', async () => {
      const { store } = await freshStore();
      const claim = claimOf(ID);
      counter.take();
      await expect(store.claim(claim)).resolves.toEqual({ claimed: true });
      expect(counter.take()).toEqual({ PutItemCommand: 1 });
      await expect(store.extendLease(ID, claim.token, LONG)).resolves.toBe(true);
      expect(counter.take()).toEqual({ UpdateItemCommand: 1 });
      await expect(store.complete(ID, claim.token, response(Buffer.from('done')), LONG)).resolves.toBe(true);
      expect(counter.take()).toEqual({ UpdateItemCommand: 1 });
      expect(existingOf(await store.claim(claimOf(ID))).response!.body!.toString()).toBe('done');
      expect(counter.take()).toEqual({ PutItemCommand: 1, GetItemCommand: 1 });

      const other = claimOf({ ...ID, key: 'key-2' });
      await store.claim(other);
      counter.take();
      await expect(store.release(other, other.token)).resolves.toBe(true);
      expect(counter.take()).toEqual({ DeleteItemCommand: 1 });
    });

    it('reads the item in the way from the failed condition where the endpoint returns it (DynamoDB): a replay is one call', async () => {
      const emulating = dynalite.client();
      const stopEmulation = returnOldItemOnConditionFailure(emulating, dynalite.endpoint);
      const emulatedCounter = new CommandCounter(emulating);
      try {
        const { store } = await freshStore({}, emulating);
        const claim = claimOf(ID);
        await store.claim(claim);
        await store.complete(ID, claim.token, response(Buffer.from('done')), LONG);
        emulatedCounter.take();
        expect(existingOf(await store.claim(claimOf(ID))).response!.body!.toString()).toBe('done');
        expect(emulatedCounter.take()).toEqual({ PutItemCommand: 1 });
      } finally {
        stopEmulation();
        emulating.destroy();
      }
    });

    it('answers a refused claim whose item is gone by the time it is read with no record, so the caller claims again', async () => {
      const { store, table } = await freshStore();
      const holder = claimOf(ID);
      await store.claim(holder);
      // Delete the item between the failed PutItem and the GetItem that follows it.
      const racing = dynalite.client();
      racing.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'GetItemCommand') await store.release(ID, holder.token);
          return next(args);
        },
        { step: 'initialize', name: 'releaseBeforeRead' },
      );
      try {
        const store2 = new DynamoDbIdempotencyStore(racing, { table });
        await expect(store2.claim(claimOf(ID))).resolves.toEqual({ claimed: false, existing: null });
      } finally {
        racing.destroy();
      }
    });
  });

  describe('takenOver', () => {
    it('tells a takeover of a lapsed lease from an insert and from a takeover of an expired completed record, in the one call', async () => {
      const { store } = await freshStore({ clockSkewMargin: 0 });
      await expect(store.claim(claimOf(ID, 0))).resolves.toEqual({ claimed: true });
      counter.take();
      await expect(store.claim(claimOf(ID))).resolves.toEqual({ claimed: true, takenOver: true });
      expect(counter.take()).toEqual({ PutItemCommand: 1 });

      const other = { ...ID, key: 'key-2' };
      const first = claimOf(other);
      await store.claim(first);
      await store.complete(other, first.token, response(Buffer.from('old')), 0);
      await expect(store.claim(claimOf(other))).resolves.toEqual({ claimed: true });
    });
  });

  describe('items', () => {
    it('keeps a record in one item: state, times in epoch ms, TTL attribute in epoch seconds after the lease margin', async () => {
      let now = 1_900_000_000_123;
      const { store, table } = await freshStore({ clock: () => now, clockSkewMargin: 2_000 });
      const claim = claimOf(ID, 10_000, 'fp-1');
      await store.claim(claim);
      const read = async () =>
        (await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: partitionKeyOf(ID) } }, ConsistentRead: true }))).Item!;
      expect(await read()).toEqual({
        id: { S: '["POST /orders","alice","key-1"]' },
        fingerprint: { S: 'fp-1' },
        token: { S: claim.token },
        state: { S: 'processing' },
        ends_at: { N: '1900000010123' },
        expires_at: { N: '1900000013' },
      });
      now += 1_000;
      await store.complete(ID, claim.token, response(Buffer.from([0, 255])), 5_000);
      expect(await read()).toMatchObject({
        state: { S: 'completed' },
        ends_at: { N: '1900000006123' },
        expires_at: { N: '1900000009' },
        response_status: { N: '200' },
        response_headers: { S: '{"content-type":"application/octet-stream"}' },
        response_body: { B: new Uint8Array([0, 255]) },
      });
    });

    it('encodes the identity unambiguously, and one over the 2,048-byte key limit as its SHA-256', async () => {
      expect(partitionKeyOf({ scope: 'a"', principal: 'b', key: 'c' })).not.toBe(partitionKeyOf({ scope: 'a', principal: '"b', key: 'c' }));
      expect(partitionKeyOf({ scope: 'a,b', principal: '', key: 'c' })).not.toBe(partitionKeyOf({ scope: 'a', principal: 'b', key: 'c' }));
      const { store } = await freshStore();
      const long = { ...ID, scope: 's'.repeat(3_000) };
      expect(partitionKeyOf(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
      await expect(store.claim(claimOf(long))).resolves.toEqual({ claimed: true });
      await expect(store.claim(claimOf({ ...long, scope: `${long.scope}x` }))).resolves.toEqual({ claimed: true });
      expect(existingOf(await store.claim(claimOf(long))).status).toBe('processing');
    });

    it(`stores a body of maxResponseBytes at most (${MAX_DYNAMODB_RESPONSE_BYTES}) exactly, and one that would overflow the item as not stored`, async () => {
      const { store } = await freshStore();
      const body = Buffer.alloc(MAX_DYNAMODB_RESPONSE_BYTES, 7);
      const fits = claimOf(ID);
      await store.claim(fits);
      await expect(store.complete(ID, fits.token, response(body, { etag: 'e'.repeat(8_000) }), LONG)).resolves.toBe(true);
      expect(existingOf(await store.claim(claimOf(ID))).response!.body!.equals(body)).toBe(true);

      const tooBig = { ...ID, key: 'key-2' };
      const overflow = claimOf(tooBig);
      await store.claim(overflow);
      await expect(store.complete(tooBig, overflow.token, response(body, { etag: 'e'.repeat(14_000) }), LONG)).resolves.toBe(true);
      expect(existingOf(await store.claim(claimOf(tooBig)))).toMatchObject({ status: 'completed', response: { status: 200, body: null } });
    });
  });

  describe('clock skew: leases come from the claimer clock, judged with clockSkewMargin', () => {
    /** Two instances on one table: `behind` runs `skew` ms slow, `exact` keeps the true time `clock.now`. */
    const twoInstances = async (skew: number, clockSkewMargin: number) => {
      const clock = { now: 2_000_000_000_000 };
      const { store: exact, table } = await freshStore({ clock: () => clock.now, clockSkewMargin });
      const behind = new DynamoDbIdempotencyStore(client, { table, clock: () => clock.now - skew, clockSkewMargin });
      return { clock, exact, behind, table };
    };

    it('keeps a lease written by a slow clock from being taken over early when the margin covers the skew', async () => {
      const { clock, exact, behind } = await twoInstances(5_000, 5_000);
      const owner = claimOf(ID, 10_000);
      await expect(behind.claim(owner)).resolves.toEqual({ claimed: true });
      // 6 s later by true time: the lease ends at true +5 s by its stored end, but at +10 s for its owner.
      clock.now += 6_000;
      const refused = existingOf(await exact.claim(claimOf(ID)));
      expect(refused).toMatchObject({ status: 'processing', expiresInMs: 4_000 });
      clock.now += 3_999;
      expect(existingOf(await exact.claim(claimOf(ID))).expiresInMs).toBe(1);
      clock.now += 1;
      await expect(exact.claim(claimOf(ID))).resolves.toEqual({ claimed: true, takenOver: true });
      await expect(behind.complete(ID, owner.token, response(Buffer.from('late')), LONG)).resolves.toBe(false);
    });

    it('takes such a lease over early without a margin: the overlap is the skew', async () => {
      const { clock, exact, behind } = await twoInstances(5_000, 0);
      await behind.claim(claimOf(ID, 10_000));
      clock.now += 6_000; // the owner believes 4 s of its lease are left
      await expect(exact.claim(claimOf(ID))).resolves.toEqual({ claimed: true, takenOver: true });
    });

    it('lets a clock that runs ahead only lengthen the leases it writes', async () => {
      const { clock, exact, table } = await twoInstances(0, 1_000);
      const ahead = new DynamoDbIdempotencyStore(client, { table, clock: () => clock.now + 5_000, clockSkewMargin: 1_000 });
      await ahead.claim(claimOf(ID, 10_000));
      expect(existingOf(await exact.claim(claimOf(ID))).expiresInMs).toBe(16_000);
      clock.now += 15_999;
      expect(existingOf(await exact.claim(claimOf(ID))).expiresInMs).toBe(1);
    });

    it('judges a completed record by its ttl alone: the margin only guards leases', async () => {
      const { clock, exact } = await twoInstances(0, 5_000);
      const first = claimOf(ID);
      await exact.claim(first);
      await exact.complete(ID, first.token, response(Buffer.from('kept')), 2_000);
      clock.now += 1_999;
      expect(existingOf(await exact.claim(claimOf(ID)))).toMatchObject({ status: 'completed', expiresInMs: 1 });
      clock.now += 1;
      await expect(exact.claim(claimOf(ID))).resolves.toEqual({ claimed: true });
    });

    it('refuses a negative or non-numeric margin, and a missing table name', () => {
      expect(() => new DynamoDbIdempotencyStore(client, { table: 't', clockSkewMargin: -1 })).toThrow(/clockSkewMargin/);
      expect(() => new DynamoDbIdempotencyStore(client, { table: 't', clockSkewMargin: Number.NaN })).toThrow(/clockSkewMargin/);
      expect(() => new DynamoDbIdempotencyStore(client, {} as DynamoDbIdempotencyStoreOptions)).toThrow(/`table`/);
    });
  });

  describe('table setup and verify()', () => {
    it('creates the table, tolerating the missing UpdateTimeToLive of dynalite, and keeps an existing one', async () => {
      const table = uniqueTable();
      await expect(createDynamoDbIdempotencyTable(client, table)).resolves.toEqual({ created: true, timeToLive: 'unsupported' });
      await expect(createDynamoDbIdempotencyTable(client, table)).resolves.toEqual({ created: false, timeToLive: 'unsupported' });
      await expect(new DynamoDbIdempotencyStore(client, { table }).verify({ transactions: false, waiting: false })).resolves.toBeUndefined();
    });

    it('names the fix for a missing table', async () => {
      const store = new DynamoDbIdempotencyStore(client, { table: 'no_such_table' });
      const error = await store.verify().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyConfigurationError);
      expect((error as Error).message).toMatch(/"no_such_table" does not exist.*createDynamoDbIdempotencyTable\(client, 'no_such_table'\).*aws dynamodb create-table/);
    });

    it('names the fix for a table with another key schema', async () => {
      const table = uniqueTable();
      await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await expect(new DynamoDbIdempotencyStore(client, { table }).verify()).rejects.toThrow(
        /has the key schema pk \(HASH\), sk \(RANGE\); the store needs exactly one partition key "id" of type string/,
      );
    });

    it('refuses wait mode, atomic mode and a maxResponseBytes over what an item holds, naming the fix', async () => {
      const { store } = await freshStore();
      await expect(store.verify({ transactions: false, waiting: true })).rejects.toThrow(/The `wait` option is not available on DynamoDbIdempotencyStore/);
      await expect(store.verify({ transactions: true, waiting: false })).rejects.toThrow(/Atomic mode .* is not available on DynamoDbIdempotencyStore/);
      await expect(store.verify({ transactions: false, waiting: false, maxResponseBytes: 1024 * 1024 })).rejects.toThrow(
        `Set maxResponseBytes to ${MAX_DYNAMODB_RESPONSE_BYTES} or less`,
      );
      await expect(store.verify({ transactions: false, waiting: false, maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES })).resolves.toBeUndefined();
    });
  });

  describe('errors', () => {
    it('throws IdempotencyStoreConnectionError when DynamoDB cannot be reached, at startup and per call', async () => {
      const unreachable = dynaliteClient(await unreachableEndpoint());
      try {
        const store = new DynamoDbIdempotencyStore(unreachable, { table: 'any_table' });
        await expect(store.verify()).rejects.toThrow(IdempotencyStoreConnectionError);
        await expect(store.claim(claimOf(ID))).rejects.toThrow(IdempotencyStoreConnectionError);
        await expect(store.complete(ID, 't', response(null), LONG)).rejects.toThrow(IdempotencyStoreConnectionError);
      } finally {
        unreachable.destroy();
      }
    });

    it('lets a permanent error pass through unchanged (a missing table)', async () => {
      const store = new DynamoDbIdempotencyStore(client, { table: 'no_such_table' });
      const error = await store.claim(claimOf(ID)).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(IdempotencyStoreConnectionError);
      expect((error as Error).name).toBe('ResourceNotFoundException');
    });

    it.each([
      ['ProvisionedThroughputExceededException', 400, true],
      ['ThrottlingException', 400, true],
      ['RequestLimitExceeded', 400, true],
      ['InternalServerError', 500, true],
      ['ServiceUnavailable', 503, true],
      ['TimeoutError', undefined, true],
      ['ValidationException', 400, false],
      ['AccessDeniedException', 400, false],
      ['ResourceNotFoundException', 400, false],
      ['UnrecognizedClientException', 400, false],
    ])('classifies %s (HTTP %s) as an outage: %s', (name, httpStatusCode, outage) => {
      const error = Object.assign(new Error('failed'), { name, $metadata: { httpStatusCode } });
      expect(classifyDynamoDbError(error) instanceof IdempotencyStoreConnectionError).toBe(outage);
    });

    it('classifies a refused or reset socket as an outage, also when the SDK wrapped it without its code', () => {
      for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
        expect(classifyDynamoDbError(Object.assign(new Error(code), { code }))).toBeInstanceOf(IdempotencyStoreConnectionError);
        const wrapped = new Error(`AWS SDK error wrapper for Error: connect ${code} 127.0.0.1:8000`);
        expect(classifyDynamoDbError(wrapped)).toBeInstanceOf(IdempotencyStoreConnectionError);
      }
      expect(classifyDynamoDbError(new Error('One or more parameter values were invalid: ECONNREFUSEDX'))).not.toBeInstanceOf(
        IdempotencyStoreConnectionError,
      );
    });
  });
});
