// The reset page in a real browser (Debian's Chromium via playwright-core): open the mailed
// link, set a new password through the form, and check the page's CSP lets its own script
// run while nothing else loads. The browser may only talk to the test server.
import { type Browser } from 'playwright-core';
import { chromiumSkipReason as skipReason, launchChromium } from '../../test/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, type TestApp } from '../../test/helpers.ts';


describe.skipIf(skipReason !== undefined)(`reset page in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await buildTestApp();
    t.deps.config.publicUrl = t.baseUrl; // so the mailed link points at this server
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function mailedLink(email: string): Promise<string> {
    await t.deps.limiter.reset('ip|');
    expect((await t.request('/auth/password-reset/request', { json: { email } })).status).toBe(200);
    const mail = await t.mailer.waitFor(email, (m) => !usedLinks.has(m.text));
    usedLinks.add(mail.text);
    return /(http\S+\/reset-password\?token=\S+)/.exec(mail.text)![1]!;
  }
  const usedLinks = new Set<string>();

  it('sets a new password through the form; the token leaves the address bar; the link then fails', async () => {
    const user = await registerUser(t);
    const link = await mailedLink(user.email);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.route('**/*', (route) => (route.request().url().startsWith(t.baseUrl) ? route.continue() : route.abort()));

    await page.goto(link);
    expect(page.url()).toBe(`${t.baseUrl}/reset-password`);
    await page.fill('#new_password', 'browser-chosen-passphrase-5');
    await page.fill('#confirm', 'browser-chosen-passphrase-5');
    await page.click('button[type=submit]');
    await page.locator('#status.ok', { hasText: 'has been reset' }).waitFor();
    expect(problems).toEqual([]);

    await t.deps.limiter.reset('ip|');
    const login = await t.request('/auth/login', { json: { email: user.email, password: 'browser-chosen-passphrase-5' } });
    expect(login.status).toBe(200);

    await page.goto(link);
    await page.fill('#new_password', 'another-browser-passphrase-6');
    await page.fill('#confirm', 'another-browser-passphrase-6');
    await page.click('button[type=submit]');
    await page.locator('#status.err', { hasText: 'invalid' }).waitFor();
    await page.close();
  });

  it('shows the policy\'s reason for a weak password and keeps the form', async () => {
    const user = await registerUser(t);
    const page = await browser.newPage();
    await page.goto(await mailedLink(user.email));
    await page.fill('#new_password', 'passwordpassword');
    await page.fill('#confirm', 'passwordpassword');
    await page.click('button[type=submit]');
    await page.locator('#status.err').waitFor();
    // The 422's detail (the policy's reason), not the invalid-link message: the token is unspent.
    expect(await page.locator('#status').textContent()).toMatch(/password/i);
    expect(await page.locator('#status').textContent()).not.toMatch(/invalid|expired/i);
    expect(await page.locator('#reset').isVisible()).toBe(true);
    await page.close();
  });
});
