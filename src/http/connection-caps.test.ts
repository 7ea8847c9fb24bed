import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { silentLogger } from '../log.ts';
import { testEnv } from '../../test/helpers.ts';
import { applyConnectionCaps, type ConnectionCaps } from './connection-caps.ts';

// Issue 17 defect 3 (SEC 29): a server-wide cap on connections and on slow readers.

const servers: Server[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => { s.closeAllConnections(); s.close(r); });
});

// More than loopback's socket buffers absorb (several MB each way), so some stays queued in Node.
const BIG = Buffer.alloc(32 * 1024 * 1024, 'x');
const caps = (over: Partial<ConnectionCaps> = {}): ConnectionCaps => ({
  maxConnections: 100, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, slowReaderMaxQueuedBytes: 64 * 1024, slowReaderTimeoutMs: 1000, ...over,
});

async function serve(c: ConnectionCaps) {
  const server = createServer((_req, res) => res.end(BIG));
  servers.push(server);
  const guard = applyConnectionCaps(server, c, silentLogger, { sweepEveryMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, guard, port: (server.address() as AddressInfo).port };
}

function unreadGet(port: number): Socket {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.pause();
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  clients.push(s);
  return s;
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe('applyConnectionCaps', () => {
  it('sets maxConnections, headersTimeout and requestTimeout on the server', async () => {
    const { server } = await serve(caps({ maxConnections: 7, headersTimeoutMs: 4000, requestTimeoutMs: 9000 }));
    expect(server.maxConnections).toBe(7);
    expect(server.headersTimeout).toBe(4000);
    expect(server.requestTimeout).toBe(9000);
  });

  it('refuses connections beyond maxConnections', async () => {
    const { port } = await serve(caps({ maxConnections: 2 }));
    const held = [unreadGet(port), unreadGet(port)];
    await new Promise((r) => setTimeout(r, 50));
    const third = connect(port, '127.0.0.1');
    clients.push(third);
    third.on('error', () => {});
    let data = '';
    third.on('data', (b: Buffer) => (data += b.toString()));
    third.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => third.once('close', r));
    expect(data).toBe('');
    expect(held.every((s) => !s.destroyed)).toBe(true);
  });

  it('destroys a socket whose unsent bytes stay above the cap past the timeout, and only that one', async () => {
    const { port, guard } = await serve(caps());
    unreadGet(port);
    await until(() => guard.queuedBytes().some((n) => n > 64 * 1024));
    const t0 = 1_000_000;
    expect(guard.sweep(t0)).toBe(0); // first seen above the cap
    expect(guard.sweep(t0 + 999)).toBe(0);
    expect(guard.sweep(t0 + 1000)).toBe(1);
    expect(guard.queuedBytes()).toEqual([]);
  });

  it('leaves alone a client that reads its answer', async () => {
    const { port, guard } = await serve(caps());
    const reader = connect(port, '127.0.0.1');
    clients.push(reader);
    let got = 0;
    reader.on('data', (b: Buffer) => { got += b.length; });
    reader.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => got > BIG.length);
    expect(guard.sweep(0)).toBe(0);
    expect(guard.sweep(10_000_000)).toBe(0);
    expect(reader.destroyed).toBe(false);
  });
});

describe('configuration of the caps', () => {
  it('has documented defaults', () => {
    const c = loadConfig(testEnv());
    expect(c.connectionCaps).toEqual({
      maxConnections: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, slowReaderMaxQueuedBytes: 1_048_576, slowReaderTimeoutMs: 60_000,
    });
  });

  it('refuses bad values with a message saying what to fix', () => {
    expect(() => loadConfig(testEnv({ MAX_CONNECTIONS: '0' }))).toThrow(/MAX_CONNECTIONS must be an integer from 1/);
    expect(() => loadConfig(testEnv({ SLOW_READER_TIMEOUT_MS: 'soon' }))).toThrow(/SLOW_READER_TIMEOUT_MS must be an integer/);
    expect(() => loadConfig(testEnv({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' })))
      .toThrow(/REQUEST_TIMEOUT_MS \(10000\) must be at least HEADERS_TIMEOUT_MS \(20000\)/);
  });
});
