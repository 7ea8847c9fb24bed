// The compiled client (what `npm run pack:client` ships) in a real browser: Debian's Chromium
// driven by playwright-core, as test/docs.browser.test.ts does. The page loads client/*.js and
// openapi-fetch through an import map from one origin; its API calls to that origin are
// passed to the in-process reference server, every other request is aborted and recorded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { chromiumSkipReason as skipReason, launchChromium } from '../test/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/pack-helpers.ts';
import { compileClient } from '../scripts/pack-client.ts';
import { buildTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from '../test/helpers.ts';

const ORIGIN = 'http://client.test';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>client</title>
<script type="importmap">{"imports":{"openapi-fetch":"/vendor/openapi-fetch.mjs"}}</script>
<script type="module">import { createQuazzarClient } from '/client/index.js'; window.createQuazzarClient = createQuazzarClient;</script>
</head><body></body></html>`;

let t: TestApp;
let out: string;
let browser: Browser | undefined;
beforeAll(async () => {
  if (skipReason) return;
  out = mkdtempSync(join(tmpdir(), 'qz-client-browser-'));
  compileClient(out);
  t = await buildTestApp();
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the compiled client in Chromium', () => {
  it('registers, logs in, reads the profile and the rate limit, and tells a wrong password apart', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const page = await browser!.newPage();
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== ORIGIN) {
        elsewhere.push(url.href);
        return route.abort();
      }
      if (url.pathname === '/') return route.fulfill({ contentType: 'text/html', body: PAGE });
      if (url.pathname === '/vendor/openapi-fetch.mjs') {
        return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(ROOT, 'node_modules/openapi-fetch/dist/index.mjs'), 'utf8') });
      }
      if (/^\/client\/[\w-]+\.js$/u.test(url.pathname)) {
        return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(out, url.pathname), 'utf8') });
      }
      const answer = await route.fetch({ url: t.baseUrl + url.pathname + url.search });
      return route.fulfill({ response: answer });
    });
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction('typeof window.createQuazzarClient === "function"');
    const email = uniqueEmail('browser');
    const result = await page.evaluate(
      async ({ email, password, origin }) => {
        // in the page (tsconfig has no DOM lib: this is typed loosely on purpose)
        const qz = (globalThis as any).createQuazzarClient({ baseUrl: origin });
        const reg = await qz.register({ email, password, full_name: 'In A Browser' });
        const wrong = await qz.login({ email, password: `${password}-wrong` });
        const login = await qz.login({ email, password });
        const me = await qz.getCurrentUser();
        return {
          registered: reg.status,
          wrong: [wrong.kind, wrong.error?.code],
          login: login.kind,
          credential: qz.credentialKind,
          name: me.data?.full_name,
          policy: me.rateLimit.policies[0],
          bad: (await qz.register({ email: 'x', password, full_name: 'X' })).error?.errors?.map((e: { pointer: string }) => e.pointer),
        };
      },
      { email, password: STRONG_PASSWORD, origin: ORIGIN },
    );
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
    expect(result).toEqual({
      registered: 201,
      wrong: ['failed', 'invalid_credentials'],
      login: 'signed_in',
      credential: 'session',
      name: 'In A Browser',
      policy: { name: 'authenticated', quota: 120, windowSeconds: 60 },
      bad: ['/email'],
    });
    await page.close();
  });
});
