import { describe, expect, it } from '@jest/globals';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerAsProblemJson } from '../../lib/http/problem-content-type.js';

/** Answers one request with `send`, after `answerAsProblemJson(res, 409)`; resolves with the content type received. */
async function contentTypeOf(send: (res: ServerResponse) => void): Promise<string | null> {
  const server = createServer((_req, res) => {
    answerAsProblemJson(res, 409);
    send(res);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await response.arrayBuffer();
    return response.headers.get('content-type');
  } finally {
    server.close();
  }
}

describe('answerAsProblemJson', () => {
  it('relabels a JSON answer of the refusal status set before end() (Express: res.json)', async () => {
    const type = await contentTypeOf((res) => {
      res.statusCode = 409;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end('{"status":409}');
    });
    expect(type).toBe('application/problem+json; charset=utf-8');
  });

  it('relabels a JSON content type passed to writeHead (Fastify: reply.send)', async () => {
    const type = await contentTypeOf((res) => {
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end('{"status":409}');
    });
    expect(type).toBe('application/problem+json');
  });

  it('leaves an answer of another status alone (a filter that maps the refusal)', async () => {
    const type = await contentTypeOf((res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    expect(type).toBe('application/json');
  });

  it('leaves an answer of another content type alone (a filter that renders HTML)', async () => {
    const type = await contentTypeOf((res) => {
      res.statusCode = 409;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end('<p>Conflict</p>');
    });
    expect(type).toBe('text/html; charset=utf-8');
  });
});
