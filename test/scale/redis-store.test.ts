import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/run.ts';
import { freePort, redisMissing, sharedSecrets, startRedis, startServer, type RedisServer, type ServerProcess } from './services.ts';

// A reference-server process with RATE_LIMIT_STORE=redis on a private redis-server: the
// whole conformance suite passes against it, and with Redis away every
// operation answers 503 with Retry-After (the process stays up), then recovers by itself.

const missing = redisMissing();

describe.skipIf(missing !== undefined)(`RATE_LIMIT_STORE=redis, one instance${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let redis: RedisServer;
  let server: ServerProcess;
  let smtpPort: number;
  const harnessToken = randomBytes(24).toString('base64url');
  beforeAll(async () => {
    redis = await startRedis();
    smtpPort = await freePort();
    server = await startServer({
      DATABASE_URL: 'sqlite::memory:',
      RATE_LIMIT_STORE: 'redis',
      REDIS_URL: redis.url,
      TRUST_PROXY: 'true',
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      HARNESS_TOKEN: harnessToken,
      ...sharedSecrets(),
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });

  it('the whole conformance suite passes against it (every MUST, full coverage)', async () => {
    const result = await runConformance({
      baseUrl: server.url,
      smtpPort,
      clientIpHeader: 'x-forwarded-for',
      harnessUrl: `${server.url}/__harness`,
      harnessToken,
      reportDir: null,
      log: () => {},
    });
    const failed = [...result.checks, ...result.requirements].filter((c) => c.outcome === 'fail').map((c) => `${c.id}: ${c.reason ?? ''}`);
    console.log(`conformance (every area) against RATE_LIMIT_STORE=redis: ${(result.durationMs / 1000).toFixed(1)} s, pass ${result.summary.pass}, fail ${result.summary.fail}, skip ${result.summary.skip}, unplanned 429: ${result.unplanned429}`);
    expect(failed).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.unplanned429).toBe(0);
    expect(result.summary.pass).toBeGreaterThan(80);
  }, 240_000);

  it('Redis away: 503 service_unavailable with Retry-After, process up; Redis back: 200 again', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    expect((await fetch(`${server.url}/health`, { headers })).status).toBe(200);
    await redis.stop();
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/health`, { headers, signal: AbortSignal.timeout(15_000) });
      statuses.push(res.status);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as { code: string }).code).toBe('service_unavailable');
    }
    const downMs = Date.now() - started;
    redis = await startRedis(redis.port);
    const back = Date.now();
    let status = 0;
    while (status !== 200 && Date.now() - back < 20_000) {
      status = (await fetch(`${server.url}/health`, { headers })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`redis away: 5 requests answered ${statuses.join(',')} in ${downMs} ms; after redis-server restarted, 200 again in ${Date.now() - back} ms`);
    expect(status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  }, 60_000);
});
