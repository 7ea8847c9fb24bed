import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { send } from './transport.js';

// A server that drops every connection on its second request, before answering: what a
// request written on a keep-alive socket meets when the server closed it as idle.
let server: http.Server;
let base = '';
const served: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const socket = req.socket as typeof req.socket & { requests?: number };
    socket.requests = (socket.requests ?? 0) + 1;
    if (socket.requests > 1) { socket.destroy(); return; }
    served.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('a request whose reused keep-alive socket is closed before any answer is sent again on a fresh socket', async () => {
  const first = await send({ method: 'POST', url: `${base}/one`, headers: {}, body: Buffer.from('{}'), timeoutMs: 5_000 });
  const second = await send({ method: 'POST', url: `${base}/two`, headers: {}, body: Buffer.from('{}'), timeoutMs: 5_000 });
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(second.error).toBeUndefined();
  expect('retryable' in second).toBe(false);
  expect(served).toEqual(['/one', '/two']);
});

test('a fresh socket that closes without an answer is reported, not retried', async () => {
  const dropper = http.createServer((req) => req.socket.destroy());
  await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
  let hits = 0;
  dropper.on('request', () => { hits++; });
  const ex = await send({ method: 'GET', url: `http://127.0.0.1:${(dropper.address() as AddressInfo).port}/`, headers: {}, timeoutMs: 5_000 });
  await new Promise<void>((r) => dropper.close(() => r()));
  expect(ex.status).toBe(0);
  expect(ex.error).toMatch(/socket hang up|ECONNRESET/);
  expect(hits).toBe(1);
});

test('records when the request started (wall clock) and how long the answer took to start and to arrive', async () => {
  const slow = http.createServer((_req, res) => {
    res.writeHead(200);
    res.write('a');
    setTimeout(() => res.end('b'), 30);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const before = Date.now();
  const raw = await send({ method: 'GET', url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, headers: {}, timeoutMs: 5_000 });
  const after = Date.now();
  await new Promise<void>((r) => slow.close(() => r()));
  expect(raw.text).toBe('ab');
  expect(raw.startedAt).toBeGreaterThanOrEqual(before - 1);
  expect(raw.startedAt).toBeLessThanOrEqual(after);
  // The body's last byte came after its first: receive is part of the duration, not zero.
  expect(raw.timings!.wait + raw.timings!.receive).toBeCloseTo(raw.durationMs, 0);
  expect(raw.timings!.receive).toBeGreaterThan(0);
});
