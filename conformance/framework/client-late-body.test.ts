import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ContractClient, type ClientEnv } from './client.ts';
import { createContract } from './contract.ts';
import type { Pacer } from './pacer.ts';
import { Tracker } from './tracker.ts';

// A body field that goes stale while the call waits for its rate-limit budget (a TOTP code:
// the server accepts its step ±1, and a login window is a minute) is computed once the budget
// is reserved, not before: `lateBody`.

let server: http.Server;
let base = '';
const received: unknown[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      received.push(JSON.parse(text));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('lateBody is computed after the budget was reserved and merged into the body sent', async () => {
  const contract = createContract({
    openapi: '3.1.0',
    paths: { '/login': { post: { operationId: 'login', responses: { '200': { description: 'ok' } }, 'x-rate-limit': { policy: 'login', limit: 10, window_seconds: 60, key: 'ip' } } } },
  });
  const events: string[] = [];
  const pacer = {
    acquire: async () => (events.push('budget reserved'), { policies: [] }),
    settle: () => {},
  } as unknown as Pacer;
  const env: ClientEnv = { contract, pacer, tracker: new Tracker(), baseUrl: base, timeoutMs: 5000, record: (d) => ({ id: 1, ...d }) };
  const client = new ContractClient(env, 'self', { checkId: 'T' });
  const ex = await client.call('login', { body: { email: 'a@example.com', password: 'p' }, lateBody: async () => (events.push('code computed'), { totp_code: '123456' }) });
  expect(events).toEqual(['budget reserved', 'code computed']);
  expect(received.at(-1)).toEqual({ email: 'a@example.com', password: 'p', totp_code: '123456' });
  expect(JSON.parse(ex.request.body!)).toEqual({ email: 'a@example.com', password: 'p', totp_code: '123456' });
});
