import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.ts';

// Issue 20 item 15: a 503 names the dependency that is down, /health included; the Redis
// rate-limit store is not reported as "the database".

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('/health names the dependency that is down', () => {
  describe('Redis rate-limit store gone after start', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ env: { RATE_LIMIT_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${await closedPort()}/0` } });
    });
    afterAll(() => t?.close());

    it('GET /health: 503 service_unavailable whose detail names the rate-limit store (Redis), not the database', async () => {
      const res = await t.request('/health');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('service_unavailable');
      expect(res.body.detail).toMatch(/rate-limit store \(Redis\)/);
      expect(res.body.detail).not.toMatch(/database/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('any other operation says the same', async () => {
      const res = await t.request('/auth/login', { json: { email: 'a@example.com', password: 'whatever-long-enough' } });
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/rate-limit store \(Redis\)/);
    });
  });

  describe('database gone after start (harness fault)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp();
    });
    afterAll(() => t?.close());

    it('GET /health: 503 whose detail names the database', async () => {
      expect((await t.request('/health')).status).toBe(200);
      t.deps.faults.databaseUnavailableUntil = t.clock.now() + 60_000;
      const res = await t.request('/health');
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/^The database cannot be reached/);
      t.deps.faults.databaseUnavailableUntil = null;
      expect((await t.request('/health')).status).toBe(200);
    });
  });
});
