import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, oversizedJson, untestedStatuses, type TestApp } from '../../test/helpers.ts';
import { problemMiddleware } from '../errors/middleware.ts';
import { silentLogger } from '../log.ts';
import { staticRoutes } from './static-routes.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

describe('the request pipeline', () => {
  it('404 not_found as problem+json for unknown paths, whatever the method or body', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await t.request('/no/such/thing', { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 404, code: 'not_found', type: 'https://app.quazzar.space/problems/not_found' });
    }
    // Routing comes before the body: an oversized body to an unknown path is still a 404.
    expect((await t.request('/no/such/thing', { raw: oversizedJson(t), headers: { 'content-type': 'application/json' } })).status).toBe(404);
  });

  it('405 method_not_allowed with Allow', async () => {
    const res = await t.request('/auth/login', { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.body.code).toBe('method_not_allowed');
    expect(res.headers.get('allow')).toBe('POST');
    expect((await t.request('/users/me', { method: 'DELETE' })).headers.get('allow')).toBe('GET, PATCH');
  });

  it('checks in the documented order: 413 before 415 before 400 before 429 before 401 before 422', async () => {
    const json = { 'content-type': 'application/json' };
    expect((await t.request('/users/me', { method: 'PATCH', raw: oversizedJson(t), headers: { 'content-type': 'text/plain' } })).status).toBe(413);
    expect((await t.request('/users/me', { method: 'PATCH', raw: '{', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await t.request('/users/me', { method: 'PATCH', raw: '{', headers: json })).status).toBe(400);
    expect((await t.request('/users/me', { method: 'PATCH', json: { nope: 1 } })).status).toBe(401);
    const limit = t.deps.contract.operation('updateCurrentUser').rateLimit.limit;
    for (let i = 1; i < limit; i++) await t.request('/users/me', { method: 'PATCH', json: { nope: 1 } });
    expect((await t.request('/users/me', { method: 'PATCH', json: { nope: 1 } })).status).toBe(429);
  });

  it('a missing or empty body is a 422 naming the missing fields, not a crash', async () => {
    const none = await t.request('/auth/login', { method: 'POST' });
    expect(none.status).toBe(422);
    expect(none.body.errors).toEqual([{ pointer: '', detail: 'is required' }]);
    const empty = await t.request('/auth/login', { method: 'POST', raw: '', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(422);
    expect(empty.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/email', '/password']);
    const array = await t.request('/auth/login', { json: [] });
    expect(array.status).toBe(422);
  });

  it('OPTIONS is not an operation of this API: 405 with Allow', async () => {
    const options = await t.request('/health', { method: 'OPTIONS' });
    expect(options.status).toBe(405);
    expect(options.headers.get('allow')).toBe('GET');
  });

  it('security headers on every answer', async () => {
    for (const res of [await t.request('/health'), await t.request('/nope'), await t.request('/users/me')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('serves the bundled contract at /openapi.json', async () => {
    const res = await t.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1/);
    expect(Object.keys(res.body.paths)).toContain('/auth/login');
  });

  it('getHealth: 200, then 429 past its budget', async () => {
    const res = await t.request('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    const limit = t.deps.contract.operation('getHealth').rateLimit.limit;
    for (let i = 1; i < limit; i++) await t.request('/health');
    expect((await t.request('/health')).status).toBe(429);
  });

  it('getHealth 503 and a generic 500 when the database is gone', async () => {
    const broken = await buildTestApp();
    try {
      const { token } = await newSession(broken);
      await broken.deps.db.destroy();
      const health = await broken.request('/health');
      expect(health.status).toBe(503);
      expect(health.body.code).toBe('service_unavailable');
      const me = await broken.request('/users/me', { token });
      expect(me.status).toBe(500);
      expect(me.body.code).toBe('internal_error');
      expect(JSON.stringify(me.body)).not.toMatch(/knex|pool|stack|at /i);
      // 200 and 429 come from the healthy app above; together they cover getHealth.
      const covered = new Set([...(t.seen.get('GET /health') ?? []), ...(broken.seen.get('GET /health') ?? [])]);
      expect(untestedStatuses({ deps: t.deps, seen: new Map([['GET /health', covered]]) }, 'getHealth')).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});

describe('/docs', () => {
  it('answers a 404 problem that says how to build the site when dist/docs is missing', async () => {
    const app = new Koa();
    app.use(problemMiddleware(silentLogger, undefined));
    app.use(staticRoutes(t.deps, mkdtempSync(path.join(tmpdir(), 'nodocs-'))));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/docs`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { detail: string }).detail).toContain('npm run docs');
      expect((await fetch(`http://127.0.0.1:${port}/docs/..%2F..%2Fpackage.json`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
