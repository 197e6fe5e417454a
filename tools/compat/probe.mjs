// The HTTP probe: what every app must answer, checked with Node's fetch.
// Each check resolves to { name, ok, detail }; a failed check says what came instead.
/* global fetch, AbortSignal, Buffer, URL */
import { randomUUID } from 'node:crypto';

const REQUEST_TIMEOUT_MS = 15_000;

/** Runs every check against the app at `baseUrl`, in order; never throws. */
export async function probe(baseUrl) {
  const http = client(baseUrl);
  const results = [];
  const check = async (name, body) => {
    try {
      results.push({ name, ok: true, detail: await body() });
    } catch (error) {
      results.push({ name, ok: false, detail: error.message });
    }
  };

  const key = `compat-${randomUUID()}`;
  const order = { item: 'book' };
  let first;
  await check('first request: 201', async () => {
    first = await http.post('/orders', order, key);
    expect(first.status === 201, `expected 201, got ${describe(first)}`);
    expect(/^application\/json/.test(first.headers.get('content-type') ?? ''), `expected JSON, got ${describe(first)}`);
    expect(typeof JSON.parse(first.text).id === 'string', `expected a body with an id, got ${describe(first)}`);
  });
  await check('replay: same status and bytes, idempotent-replayed: true', async () => {
    expect(first, 'no first response to compare with');
    const replay = await http.post('/orders', order, key);
    expect(replay.status === first.status, `expected ${first.status}, got ${describe(replay)}`);
    expect(replay.bytes.equals(first.bytes), `body differs: first ${first.text}, replay ${replay.text}`);
    const replayed = replay.headers.get('idempotent-replayed');
    expect(replayed === 'true', `expected header idempotent-replayed: true, got ${replayed ?? 'none'}`);
  });
  await check('same key, other body: 422 problem', async () => {
    expectProblem(await http.post('/orders', { item: 'pen' }, key), 422);
  });
  await check('no key: 400 problem', async () => {
    expectProblem(await http.post('/orders', order), 400);
  });
  await check('duplicate in flight: 409 problem, Retry-After', async () => {
    const heldKey = `compat-${randomUUID()}`;
    const held = http.post('/orders', { item: 'held', hold: true }, heldKey);
    held.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    try {
      await http.get('/held'); // answers once the first request is inside its handler (its key claimed)
      const duplicate = await http.post('/orders', { item: 'held', hold: true }, heldKey);
      expectProblem(duplicate, 409);
      expect(duplicate.headers.get('retry-after') !== null, 'the 409 has no Retry-After header');
    } finally {
      await http.post('/release', {}).catch(() => undefined);
    }
    const original = await held;
    expect(original.status === 201, `the held request, once released: expected 201, got ${describe(original)}`);
  });
  return results;
}

/** Throws unless `response` is an RFC 9457 problem with `status`. */
function expectProblem(response, status) {
  expect(response.status === status, `expected ${status}, got ${describe(response)}`);
  const type = response.headers.get('content-type') ?? 'none';
  expect(/^application\/problem\+json\s*(;|$)/.test(type), `expected content-type application/problem+json, got ${type}`);
  let problem;
  try {
    problem = JSON.parse(response.text);
  } catch {
    throw new Error(`the problem body is not JSON: ${response.text}`);
  }
  const missing = ['type', 'title', 'detail'].filter((field) => typeof problem[field] !== 'string');
  expect(missing.length === 0, `the problem lacks ${missing.join(', ')}: ${response.text}`);
  expect(problem.status === status, `the problem's status is ${problem.status}, not ${status}`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** `status content-type body` of a response, short enough for one line. */
function describe(response) {
  const body = response.text.length > 300 ? `${response.text.slice(0, 300)}...` : response.text;
  return `${response.status} (${response.headers.get('content-type') ?? 'no content-type'}) ${body}`;
}

/** JSON requests to the app; each resolves with status, headers, the body's bytes and text. */
function client(baseUrl) {
  const send = async (method, path, body, key) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    if (key !== undefined) headers['idempotency-key'] = key;
    const response = await fetch(new URL(path, baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, bytes, text: bytes.toString('utf8') };
  };
  return {
    get: (path) => send('GET', path),
    post: (path, body, key) => send('POST', path, body, key),
  };
}
