// Issue 18: the dashboard's addresses — `/` redirects to /dashboard/, the three built files
// answer with the strict CSP under the static budget, nothing else is served there, and
// DASHBOARD=false gives the API-only server back (`/` is the JSON 404).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, testEnv, type TestApp } from '../../test/helpers.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { DASHBOARD_CSP } from './dashboard.ts';

let dir: string;
let t: TestApp;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'quazzar-dashboard-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>d</title><script defer src="app.js?v=1"></script>');
  writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'app.css'), 'body{}');
  writeFileSync(path.join(dir, 'secret.txt'), 'not served');
  t = await buildTestApp({ dashboardDir: dir });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const noRedirect = (p: string) => fetch(t.baseUrl + p, { redirect: 'manual' });

describe('dashboard routes', () => {
  it('/ and /dashboard redirect to /dashboard/', async () => {
    for (const p of ['/', '/dashboard']) {
      const res = await noRedirect(p);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/dashboard/');
    }
  });

  it('serves the page, its script and its style sheet with the strict CSP', async () => {
    const page = await t.request('/dashboard/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('ratelimit-policy')).toContain('static');
    const js = await t.request('/dashboard/app.js?v=1');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await t.request('/dashboard/app.css')).headers.get('content-type')).toMatch(/^text\/css/);
    const again = await fetch(`${t.baseUrl}/dashboard/app.js`, { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('serves nothing else under the prefix, and leaves the API paths alone', async () => {
    for (const p of ['/dashboard/secret.txt', '/dashboard/../package.json', '/dashboard/x/app.js']) {
      const res = await t.request(p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    expect((await t.request('/users/me')).status).toBe(401);
    expect((await t.request('/projects')).status).toBe(401);
  });

  it('says how to build it when it is not built', async () => {
    const empty = await buildTestApp({ dashboardDir: path.join(dir, 'missing') });
    try {
      const res = await empty.request('/dashboard/');
      expect(res.status).toBe(404);
      expect(res.body.detail).toMatch(/npm run build:dashboard/);
    } finally {
      await empty.close();
    }
  });
});

describe('DASHBOARD switch', () => {
  it('DASHBOARD=false: / is the JSON 404 again and /dashboard/ is not served', async () => {
    const off = await buildTestApp({ env: { DASHBOARD: 'false' }, dashboardDir: dir });
    try {
      const root = await off.request('/');
      expect(root.status).toBe(404);
      expect(root.headers.get('content-type')).toMatch(/problem\+json/);
      expect((await off.request('/dashboard/')).status).toBe(404);
      expect((await off.request('/dashboard/app.js')).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('is on by default and refuses a value that is not a boolean, saying what to write', () => {
    expect(loadConfig(testEnv()).dashboard).toBe(true);
    expect(loadConfig(testEnv({ DASHBOARD: 'no' })).dashboard).toBe(false);
    expect(() => loadConfig(testEnv({ DASHBOARD: 'off' }))).toThrow(ConfigError);
    expect(() => loadConfig(testEnv({ DASHBOARD: 'off' }))).toThrow(/DASHBOARD must be true or false/);
  });
});
