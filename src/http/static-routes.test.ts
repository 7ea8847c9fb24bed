import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.ts';
import type { AppState } from '../deps.ts';
import { problemMiddleware } from '../errors/middleware.ts';
import { resetPasswordPage } from '../pages/reset-password.ts';
import { requestContext } from './request-context.ts';
import { staticRoutes } from './static-routes.ts';

// Issue 17 defect 3 (SEC 29): static answers from one shared buffer, cacheable with a
// validator, under a per-IP budget (the contract's x-static-rate-limit).

let t: TestApp;
let server: Server;
let base: string;
const bodies: unknown[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'qz-static-'));

beforeAll(async () => {
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>docs</title>');
  t = await buildTestApp();
  // The app's own middleware on a docs directory of this test, and a recorder of each answer's body.
  const app = new Koa<AppState>();
  app.use(requestContext(t.deps));
  app.use(async (ctx, next) => { await next(); bodies.push(ctx.body); });
  app.use(problemMiddleware(t.deps.log, undefined));
  app.use(staticRoutes(t.deps, dir));
  app.use(resetPasswordPage(t.deps));
  server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await t.deps.limiter.reset('');
  bodies.length = 0;
});

const budget = () => t.deps.contract.document['x-static-rate-limit'] as { policy: string; limit: number; window_seconds: number; key: string };

describe('static answers', () => {
  it('the contract states their per-IP budget', () => {
    expect(budget()).toMatchObject({ policy: 'static', key: 'ip' });
    expect(budget().limit).toBeGreaterThan(0);
  });

  for (const p of ['/docs/', '/openapi.json', '/reset-password']) {
    it(`${p}: every answer is the same Buffer object, read once`, async () => {
      for (let i = 0; i < 3; i++) expect((await fetch(base + p)).status).toBe(200);
      expect(bodies).toHaveLength(3);
      expect(Buffer.isBuffer(bodies[0])).toBe(true);
      expect(bodies[1]).toBe(bodies[0]);
      expect(bodies[2]).toBe(bodies[0]);
    });
  }

  for (const p of ['/docs/', '/openapi.json']) {
    it(`${p}: public and cacheable with a strong ETag and Last-Modified; If-None-Match answers 304 without a body`, async () => {
      const first = await fetch(base + p);
      expect(first.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
      const etag = first.headers.get('etag');
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{16,}"$/);
      expect(new Date(first.headers.get('last-modified')!).getTime()).not.toBeNaN();
      await first.arrayBuffer();
      const again = await fetch(base + p);
      expect(again.headers.get('etag')).toBe(etag);
      await again.arrayBuffer();
      const cached = await fetch(base + p, { headers: { 'if-none-match': etag! } });
      expect(cached.status).toBe(304);
      expect(await cached.text()).toBe('');
      const stale = await fetch(base + p, { headers: { 'if-none-match': '"something-else"' } });
      expect(stale.status).toBe(200);
    });
  }

  it('/reset-password stays no-store: its address carries a live token', async () => {
    const res = await fetch(`${base}/reset-password?token=${'A'.repeat(43)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('etag')).toBeNull();
  });

  it('share one per-IP budget: the answer after it is 429 rate_limited with Retry-After, and no cacheable header', async () => {
    const paths = ['/docs/', '/openapi.json', '/reset-password'];
    for (let i = 0; i < budget().limit; i++) {
      const res = await fetch(base + paths[i % 3]!);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    for (const p of paths) {
      const res = await fetch(base + p);
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { code: string }).code).toBe('rate_limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('ratelimit-policy')).toBe(`"static";q=${budget().limit};w=${budget().window_seconds}`);
    }
    // Another client has its own budget.
    await t.deps.limiter.reset('');
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
  });

  it('the app serves /openapi.json the same way (ETag, 304)', async () => {
    const first = await t.request('/openapi.json');
    expect(first.status).toBe(200);
    expect(first.body.openapi).toBe('3.1.0');
    const cached = await fetch(`${t.baseUrl}/openapi.json`, { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(cached.status).toBe(304);
  });
});
