import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors } from './client-errors';

/** What a raw socket receives, up to the server closing it. */
const rawExchange = (port: number, request: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(request);
  });

const problemOf = (raw: string) => {
  const [head, body] = raw.split('\r\n\r\n');
  return { statusLine: head?.split('\r\n')[0], head: head ?? '', problem: JSON.parse(body ?? '') };
};

let server: Server;
let port: number;
beforeAll(async () => {
  // A short request timeout checked often, so the slow client is cut off soon; the test waits for the answer.
  server = createServer({ requestTimeout: 300, headersTimeout: 300, connectionsCheckingInterval: 50 }, (req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  answerClientErrors(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('requests Node cannot parse get a problem document', () => {
  it('431 for oversized headers', async () => {
    const raw = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const { statusLine, head, problem } = problemOf(raw);
    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(head).toContain('Content-Type: application/problem+json');
    expect(problem).toMatchObject({ status: 431, code: 'request_too_large' });
  });

  it('400 for garbage', async () => {
    const { statusLine, problem } = problemOf(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(problem).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('408 for a client that never finishes its body (slowloris)', async () => {
    const { statusLine, problem } = problemOf(
      await rawExchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":'),
    );
    expect(statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(problem).toMatchObject({ status: 408 });
  });
});
