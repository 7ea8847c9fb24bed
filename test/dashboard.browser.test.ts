// Issue 18: the dashboard in a real browser (Debian's Chromium via playwright-core) against the
// in-process reference server, with the page's own CSP in force. Every flow is walked as a
// person would: account (register with a field error, profile, password, sign out, keyboard-only
// sign in, forgot password finished on the reset page), projects and API keys (the key used from
// Node inside and outside its scope and after it is revoked, the password prompt of
// `reauthentication_required`), two-factor (QR decoded, codes computed as an authenticator app
// does, backup codes, disable), and the failures (429 as "try again in N s", an expired session).
// axe-core checks each view (no serious or critical violation); the page may only talk to the
// test server, keeps nothing in storage and puts no secret in a URL.
// DASHBOARD_SCREENSHOT=docs/dashboard.png also writes the README's screenshot.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumSkipReason as skipReason, launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeQrDataUrl } from '../conformance/lib/qr.ts';
import { totpAt } from '../conformance/lib/totp.ts';
import { buildDashboard } from '../scripts/build-dashboard.mjs';
import { buildTestApp, registerUser, uniqueEmail, type RegisteredUser, type TestApp } from './helpers.ts';

// CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const AXE_SOURCE = readFileSync(AXE_PATH, 'utf8');

/** The few page globals the in-page functions read: tsconfig has no "dom" lib (this is Node code). */
type InPage = any;

describe.skipIf(skipReason !== undefined)(`dashboard in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let t: TestApp;
  let browser: Browser;
  let outDir: string;

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'quazzar-dashboard-build-'));
    await buildDashboard(outDir);
    t = await buildTestApp({ dashboardDir: outDir });
    t.deps.config.publicUrl = t.baseUrl; // so the mailed reset link points at this server
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  interface Session {
    context: BrowserContext;
    page: Page;
    /** Every URL the page requested. */
    requests: string[];
    /** Requests to anything but the test server (aborted). */
    external: string[];
    /** Script errors and CSP refusals. */
    problems: string[];
    /** Session tokens the page received (to prove they never appear in a URL). */
    tokens: string[];
  }

  async function open(width = 1400): Promise<Session> {
    await t.deps.limiter.reset('');
    const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.baseUrl });
    const page = await context.newPage();
    const s: Session = { context, page, requests: [], external: [], problems: [], tokens: [] };
    page.on('request', (r) => s.requests.push(r.url()));
    page.on('pageerror', (e) => s.problems.push(e.message));
    // A 4xx answer is logged by Chromium as "Failed to load resource": expected here; anything else is not.
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) s.problems.push(m.text()); });
    page.on('response', async (r) => {
      if (r.url().endsWith('/auth/login') && r.status() === 200) s.tokens.push(((await r.json()) as { access_token: string }).access_token);
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(t.baseUrl)) return route.continue();
      s.external.push(url);
      return route.abort();
    });
    await page.goto(`${t.baseUrl}/`);
    await heading(page, 'Sign in');
    expect(page.url()).toBe(`${t.baseUrl}/dashboard/#sign-in`);
    return s;
  }

  /** The checks every walk ends with: nothing external, no secret in a URL, nothing stored. */
  async function close(s: Session, secrets: string[] = []): Promise<void> {
    expect(s.external).toEqual([]);
    expect(s.problems).toEqual([]);
    for (const secret of [...s.tokens, ...secrets]) {
      expect(s.requests.filter((u) => u.includes(secret))).toEqual([]);
    }
    const stored = await s.page.evaluate(() => {
      const g = globalThis as InPage;
      return { local: g.localStorage.length, session: g.sessionStorage.length, cookie: g.document.cookie };
    });
    expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
    await s.context.close();
  }

  const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true }).click();

  /** axe-core in the page (evaluated from node_modules; an injected <script> would be refused by the CSP, as it should). */
  async function axe(page: Page, where: string): Promise<void> {
    if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE);
    const serious = await page.evaluate(async () => {
      const r = await (globalThis as InPage).axe.run((globalThis as InPage).document, { resultTypes: ['violations'] });
      return (r.violations as InPage[])
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n: InPage) => n.target.join(' ')).join(', ')}`);
    });
    expect(serious, where).toEqual([]);
  }

  /**
   * Keyboard only: from the top of the page, Tab reaches every visible control of the view (links,
   * buttons, inputs, the scrollable tables), and each one shows a focus outline when it has focus.
   */
  async function keyboardReach(page: Page, where: string): Promise<void> {
    const count = await page.evaluate(() => {
      const g = globalThis as InPage;
      const all = Array.from(g.document.querySelectorAll('a[href], button, input, [tabindex="0"]')) as InPage[];
      const visible = all.filter((e) => !e.disabled && e.getClientRects().length > 0 && g.getComputedStyle(e).visibility !== 'hidden');
      visible.forEach((e, i) => e.setAttribute('data-kb', String(i)));
      g.document.activeElement?.blur?.();
      return visible.length;
    });
    const reached = new Set<string>();
    const unmarked: string[] = [];
    for (let i = 0; i < count + 3; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const g = globalThis as InPage;
        const a = g.document.activeElement;
        return { kb: a?.getAttribute('data-kb') ?? null, outline: a ? g.getComputedStyle(a).outlineStyle : 'none', tag: a?.tagName ?? '' };
      });
      if (focused.kb === null) { if (focused.tag !== 'BODY') unmarked.push(focused.tag); continue; }
      expect(focused.outline, `${where}: focus outline on control ${focused.kb}`).not.toBe('none');
      reached.add(focused.kb);
    }
    expect(reached.size, `${where}: controls reached by Tab`).toBe(count);
    expect(unmarked, `${where}: focus went somewhere unexpected`).toEqual([]);
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in');
    await page.getByText('You are signed out.').waitFor();
  }

  const fieldError = (page: Page, name: string) => page.locator(`.field:has(input[name="${name}"]) .field-error`);

  it('account: register (field error next to its field), profile, password, sign out, keyboard-only sign in, forgot password', async () => {
    const s = await open();
    const { page } = s;
    await axe(page, 'sign in');
    await keyboardReach(page, 'sign in');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await heading(page, 'Create an account');
    await axe(page, 'register');
    const email = uniqueEmail();
    await page.getByLabel('E-mail').fill('not-an-email');
    await page.getByLabel('Full name').fill('Ada Browser');
    await page.getByLabel('Password').fill('a-long-enough-browser-passphrase-1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => fieldError(page, 'email').textContent()).not.toBe('');
    expect(await page.locator('input[name=email]').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('input[name=email]').getAttribute('aria-describedby')).toContain('-error');
    await axe(page, 'register with a field error');
    await page.getByLabel('E-mail').fill(email);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading(page, 'Profile');
    await page.getByText(email, { exact: true }).first().waitFor();
    await axe(page, 'profile');
    await keyboardReach(page, 'profile');

    // Profile: a wrong phone shows its error next to the phone field; then a valid edit sticks.
    const details = page.getByRole('form', { name: 'Edit profile' });
    await details.getByLabel('Phone').fill('call me maybe');
    await details.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => fieldError(page, 'phone').textContent()).not.toBe('');
    expect(await fieldError(page, 'full_name').isHidden()).toBe(true);
    await details.getByLabel('Phone').fill('+1 555 0100');
    await details.getByLabel('Company').fill('Analytical Engines');
    await details.getByLabel('Full name').fill('Ada B. Browser');
    await details.getByRole('button', { name: 'Save profile' }).click();
    await details.getByText('Profile saved.').waitFor();
    await nav(page, 'Projects');
    await heading(page, 'Projects');
    await nav(page, 'Profile');
    await heading(page, 'Profile');
    expect(await page.getByRole('form', { name: 'Edit profile' }).getByLabel('Phone').inputValue()).toBe('+1 555 0100');
    expect(await page.getByRole('form', { name: 'Edit profile' }).getByLabel('Company').inputValue()).toBe('Analytical Engines');

    // Change password: a weak one is refused next to its field, a good one is taken.
    const pw = page.getByRole('form', { name: 'Change password' });
    await pw.getByLabel('Current password').fill('a-long-enough-browser-passphrase-1');
    await pw.getByLabel('New password').fill('short');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => fieldError(page, 'new_password').textContent()).not.toBe('');
    await pw.getByLabel('New password').fill('second-browser-passphrase-2');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByText('Password changed.').waitFor();

    // Sign out clears the page: no trace of the person, and Back does not bring the profile back.
    await signOut(page);
    expect(await page.content()).not.toContain(email);
    await page.goBack();
    await heading(page, 'Sign in');

    // Keyboard only: from the heading, Tab to the e-mail, the password, Enter.
    await page.getByRole('heading', { level: 1 }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('second-browser-passphrase-2');
    await page.keyboard.press('Enter');
    await heading(page, 'Profile');
    // The focus is visible: the focused control has an outline.
    await page.getByRole('navigation').getByRole('link', { name: 'Projects' }).focus();
    const outline = await page.evaluate(() => {
      const g = globalThis as InPage;
      return g.getComputedStyle(g.document.activeElement).outlineStyle;
    });
    expect(outline).not.toBe('none');
    await signOut(page);

    // Forgot password: the dashboard asks, the mail links to the reset page, which finishes it.
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await heading(page, 'Forgot your password?');
    await axe(page, 'forgot password');
    await page.getByLabel('E-mail').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await heading(page, 'Check your mail');
    await axe(page, 'check your mail');
    const mail = await t.mailer.waitFor(email);
    const link = /(http\S+\/reset-password\?token=\S+)/.exec(mail.text)![1]!;
    await page.goto(link);
    await page.fill('#new_password', 'third-browser-passphrase-3');
    await page.fill('#confirm', 'third-browser-passphrase-3');
    await page.click('button[type=submit]');
    await page.locator('#status.ok').waitFor();
    await page.goto(`${t.baseUrl}/`);
    await heading(page, 'Sign in');
    await signIn(page, email, 'third-browser-passphrase-3');
    await heading(page, 'Profile');
    // (The reset token is in the mailed link by design; the reset page removes it from the address bar.)
    await close(s, ['a-long-enough-browser-passphrase-1', 'second-browser-passphrase-2', 'third-browser-passphrase-3']);
  });

  it('projects and API keys: a key made in the page works from Node inside its scope only, and not after it is revoked in the page', async () => {
    const user = await registerUser(t);
    const s = await open();
    const { page } = s;
    await signIn(page, user.email, user.password);
    await heading(page, 'Profile');

    await nav(page, 'Projects');
    await heading(page, 'Projects');
    await page.getByText('You have no projects yet.').waitFor();
    for (const name of ['Alpha', 'Beta']) {
      await page.getByLabel('Project name').fill(name);
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('cell', { name, exact: true }).waitFor();
    }
    await axe(page, 'projects');
    const idOf = async (name: string) => (await page.getByRole('row').filter({ hasText: name }).locator('code').textContent())!;
    const alpha = await idOf('Alpha');
    const beta = await idOf('Beta');

    // The login is older than x-recent-authentication: the page asks for the password and goes on.
    const windowMs = Number(t.deps.contract.document['x-recent-authentication'].max_age_seconds) * 1000;
    t.clock.advance(windowMs + 1000);
    await nav(page, 'API keys');
    await heading(page, 'API keys');
    await page.getByText('You have no API keys yet.').waitFor();
    await axe(page, 'api keys');
    await page.getByLabel('Key name').fill('CI deploy');
    await page.getByLabel('Alpha').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const prompt = page.getByRole('dialog', { name: 'Confirm your password' });
    await prompt.waitFor();
    await axe(page, 'password prompt');
    await prompt.getByLabel('Password', { exact: true }).fill('not-the-password-at-all');
    await prompt.getByRole('button', { name: 'Confirm' }).click();
    await prompt.getByText('not correct').waitFor();
    await prompt.getByLabel('Password', { exact: true }).fill(user.password);
    await prompt.getByRole('button', { name: 'Confirm' }).click();
    await heading(page, 'Your new API key');
    const key = await page.getByLabel('Your new API key').inputValue();
    expect(key).toMatch(/^qzk_/);
    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => (globalThis as InPage).navigator.clipboard.readText())).toBe(key);
    await axe(page, 'new key');
    await keyboardReach(page, 'new key');

    expect((await t.request(`/projects/${alpha}`, { token: key })).status).toBe(200);
    const outside = await t.request(`/projects/${beta}`, { token: key });
    expect(outside.status).toBe(403);
    expect(outside.body.code).toBe('insufficient_scope');

    await page.getByRole('button', { name: 'Done' }).click();
    await heading(page, 'API keys');
    expect(await page.content()).not.toContain(key);
    const row = page.getByRole('row').filter({ hasText: 'CI deploy' });
    expect(await row.getByRole('cell').nth(1).textContent()).toBe(key.slice(0, (await row.getByRole('cell').nth(1).textContent())!.length));
    expect(await row.getByRole('cell').nth(2).textContent()).toBe('Alpha');
    await keyboardReach(page, 'api keys with a key');
    if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });

    // Revoke asks first; Cancel keeps the key, Revoke (by keyboard) ends it at once.
    await row.getByRole('button', { name: 'Revoke key CI deploy' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke key "CI deploy"?' });
    await confirm.waitFor();
    await axe(page, 'revoke confirmation');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await t.request(`/projects/${alpha}`, { token: key })).status).toBe(200);
    await row.getByRole('button', { name: 'Revoke key CI deploy' }).click();
    await confirm.getByRole('button', { name: 'Revoke key' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('You have no API keys yet.').waitFor();
    expect((await t.request(`/projects/${alpha}`, { token: key })).status).toBe(401);
    await close(s, [key, user.password]);
  });

  it('two-factor: QR decoded and codes computed like an authenticator app, backup codes shown once, sign in with a code and with a backup code, disable', async () => {
    const user: RegisteredUser = await registerUser(t);
    const s = await open();
    const { page } = s;
    await signIn(page, user.email, user.password);
    await heading(page, 'Profile');
    await nav(page, 'Two-factor authentication');
    await heading(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
    await qr.waitFor();
    await axe(page, 'totp enrolment');
    await keyboardReach(page, 'totp enrolment');
    const uri = decodeQrDataUrl((await qr.getAttribute('src'))!);
    const secret = new URL(uri).searchParams.get('secret')!;
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(await page.locator('code.secret').textContent()).toBe(secret);

    // Confirming comes after the recent-login window: the password prompt, then the codes.
    t.clock.advance(Number(t.deps.contract.document['x-recent-authentication'].max_age_seconds) * 1000 + 1000);
    await page.getByLabel('Code from your authenticator app').fill(totpAt(secret, t.clock.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const prompt = page.getByRole('dialog', { name: 'Confirm your password' });
    await prompt.getByLabel('Password', { exact: true }).fill(user.password);
    await prompt.getByRole('button', { name: 'Confirm' }).click();
    await heading(page, 'Save your backup codes');
    await axe(page, 'backup codes');
    await keyboardReach(page, 'backup codes');
    const codes = (await page.getByRole('list', { name: 'Backup codes' }).locator('code').allTextContents()).map((c) => c.trim());
    expect(codes.length).toBeGreaterThan(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    const saved = readFileSync((await download.path())!, 'utf8');
    for (const c of codes) expect(saved).toContain(c);
    await page.getByRole('button', { name: 'Copy' }).click();
    expect(await page.evaluate(() => (globalThis as InPage).navigator.clipboard.readText())).toBe(codes.join('\n'));
    await page.getByRole('button', { name: 'I have saved my backup codes' }).click();
    await page.getByText('Two-factor authentication is on: signing in').waitFor();
    await axe(page, 'two-factor on');
    const html = await page.content();
    expect(html).not.toContain(secret);
    for (const c of codes) expect(html).not.toContain(c);

    // Sign in again: the TOTP step, with the next code of the app.
    await signOut(page);
    await signIn(page, user.email, user.password);
    await heading(page, 'Two-factor authentication');
    await axe(page, 'totp step');
    await keyboardReach(page, 'totp step');
    t.clock.advance(30_000);
    await page.getByLabel('Code from your authenticator app').fill('000000' === totpAt(secret, t.clock.now()) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('.form-message.err').waitFor();
    await page.getByLabel('Code from your authenticator app').fill(totpAt(secret, t.clock.now()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'Profile');

    // And with a backup code instead.
    await signOut(page);
    await signIn(page, user.email, user.password);
    await heading(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Use a backup code instead' }).click();
    await page.getByLabel('Backup code').fill(codes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'Profile');

    // Disable with another backup code.
    await nav(page, 'Two-factor authentication');
    await page.getByLabel('Code from your app, or a backup code').fill(codes[1]!);
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).waitFor();
    await t.deps.limiter.reset('');
    const login = await t.request('/auth/login', { json: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    await close(s, [secret, ...codes, user.password]);
  });

  it('at 360 px: every view fits, 429 reads "try again in N s", an expired session returns to sign-in', async () => {
    const user = await registerUser(t);
    const s = await open(360);
    const { page } = s;
    const fits = async (where: string) => {
      const width = await page.evaluate(() => (globalThis as InPage).document.documentElement.scrollWidth);
      expect(width, where).toBeLessThanOrEqual(360);
    };
    await fits('sign in');

    // Wrong passwords until the login budget is spent: the page says when to try again.
    const budget = Number(t.deps.contract.document.paths['/auth/login'].post['x-rate-limit'].limit);
    for (let i = 0; i <= budget; i++) {
      const answered = page.waitForResponse((r) => r.url() === `${t.baseUrl}/auth/login`);
      await signIn(page, user.email, 'wrong-password-for-sure');
      expect((await answered).status()).toBe(i < budget ? 401 : 429);
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    }
    expect(await page.locator('.form-message.err').textContent()).toMatch(/^Too many attempts\. Try again in \d+ s\.$/);
    await axe(page, 'sign in with an error');
    await t.deps.limiter.reset('');

    await signIn(page, user.email, user.password);
    await heading(page, 'Profile');
    await fits('profile');
    await axe(page, 'profile at 360 px');
    for (const [link, title] of [['Two-factor authentication', 'Two-factor authentication'], ['API keys', 'API keys'], ['Projects', 'Projects']] as const) {
      await nav(page, link);
      await heading(page, title);
      await page.getByRole('button').first().waitFor();
      await fits(title);
    }
    await page.getByLabel('Project name').fill('Narrow');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('cell', { name: 'Narrow', exact: true }).waitFor();
    await fits('projects with a row');
    if (process.env.DASHBOARD_SCREENSHOT_NARROW) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT_NARROW, fullPage: true });
    await axe(page, 'projects at 360 px');
    await keyboardReach(page, 'projects at 360 px');

    // The session expires: the next action returns to sign-in and says why. The API keys view
    // asks for keys and projects at once; the projects answer (also 401) is held back until the
    // sign-in view shows, and must not draw the old view over it when it comes.
    t.clock.advance((t.deps.config.accessTokenTtlSeconds + 1) * 1000);
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    await page.route(`${t.baseUrl}/projects`, async (route) => {
      await held;
      await route.continue();
    });
    await nav(page, 'API keys');
    await heading(page, 'Sign in');
    const late = page.waitForResponse((r) => r.url() === `${t.baseUrl}/projects`);
    release();
    expect((await late).status()).toBe(401);
    for (let i = 0; i < 3; i++) await page.evaluate(() => new Promise((resolve) => (globalThis as InPage).setTimeout(resolve, 0)));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    await page.getByText('Your session has ended. Sign in again.').waitFor();
    expect(await page.getByRole('navigation').isHidden()).toBe(true);
    await close(s, [user.password]);
  });
});
