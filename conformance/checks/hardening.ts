import type { CheckContext, CheckDef, Client, Exchange } from '../framework/types.ts';
import { feature, rules, withCurrentPassword } from '../framework/features.ts';
import { createKey } from '../lib/key-flow.ts';
import { expectProblem, retryAfterSeconds } from '../lib/problems.ts';
import { confirmReset, requestResetMail } from '../lib/reset-flow.ts';
import { deviceFor, enableTotp } from '../lib/totp-flow.ts';

// Issue #10: what an attacker with a proxy, a stolen token or patience finds. Each check is
// observable from outside; the server-side-only items (production refusals, …) are tested in
// the server's own tests.

const area = 'hardening';

/** 198.51.100.0/24 (TEST-NET-2): never one of the suite's own simulated addresses (198.18.0.0/15). */
const forged = (i: number): string => `198.51.100.${(i % 250) + 1}`;

const forgedLeftMost: CheckDef = {
  id: 'HARDENING-01',
  area,
  level: 'MUST',
  title: 'Behind a proxy the client address is the right-most untrusted entry of the client-ip header: a new forged left-most entry per request does not escape the per-IP login budget (SEC 24)',
  needs: ['clientIp'],
  cost: { login: 11 },
  hashes: 0,
  async run(ctx: CheckContext) {
    const header = ctx.options.clientIpHeader!;
    const limit = ctx.contract.operation('login').rateLimit!.limit;
    await ctx.freshBudget('login');
    // An empty body: the budget counts it (every routed request counts, DECISIONS §5) and it is
    // refused 422 before any password is hashed (ten scrypt hashes saved per run).
    const body = {};
    for (let i = 0; i < limit; i += 1) {
      const ex = await ctx.call('login', { body, headers: { [header]: `${forged(i)}, ${ctx.client.ip}` }, pace: false, expect: 429 });
      ctx.require(ex.status === 422, `login #${i + 1} of ${limit} within one window: expected 422 (an empty body), got ${ex.status}`, ex);
    }
    const over = await ctx.call('login', { body, headers: { [header]: `${forged(limit)}, ${ctx.client.ip}` }, pace: false, expect: 429 });
    expectProblem(ctx, over, 429, 'rate_limited', `login #${limit + 1} from one client that forged a new left-most address each time`);
  },
};

const hugeClientIpHeader: CheckDef = {
  id: 'HARDENING-02',
  area,
  level: 'MUST',
  title: 'A forged 8 KiB client-ip header (or X-Forwarded-For) is answered normally, never 5xx: it is no rate-limit key',
  cost: { health: 2 },
  async run(ctx: CheckContext) {
    const header = ctx.options.clientIpHeader ?? 'x-forwarded-for';
    for (const value of ['9'.repeat(8000), `${'a'.repeat(4000)}, ${'b'.repeat(4000)}`]) {
      const ex = await ctx.call('getHealth', { headers: { [header]: value } });
      ctx.expect(ex.status === 200, `getHealth with an ${value.length}-character ${header}: expected 200, got ${ex.status}`, ex);
    }
  },
};

const failureBudgetRace: CheckDef = {
  id: 'HARDENING-03',
  area,
  level: 'MUST',
  title: 'x-rate-limit-failures holds under concurrency: limit + 20 parallel wrong passwords for one account from many addresses get at most `limit` 401s, the rest 429 (SEC 7)',
  needs: ['clientIp'],
  requires: [feature.extension('x-rate-limit-failures', 'login')],
  cost: { register: 1 },
  hashes: 101, // limit wrong passwords (unpaced, from many addresses) and the registration
  // limit + 20 concurrent password hashes fill the deployment's hashing queue: a check running
  // alongside would meet its load shedding (503) — and would skew this one's race.
  exclusive: true,
  async run(ctx: CheckContext) {
    const failures = ctx.contract.operation('login').rateLimitFailures;
    if (failures === undefined) ctx.skip('login documents no x-rate-limit-failures');
    const perClient = ctx.contract.operation('login').rateLimit!.limit;
    const account = await ctx.accounts.create();
    const attempts = failures.limit + 20;
    // A deployment may shed load while it hashes (503 service_unavailable with Retry-After,
    // documented on login): a shed attempt checked nothing, so it is sent again, from a new
    // client address (at most 10 times), as soon as an attempt it let in is answered (a place
    // in its queue is free) — or after the Retry-After when none is in flight. Waiting for a
    // whole round, then the Retry-After, left the deployment idle (8 of 21 s against scrypt
    // N=2^15); resending every second flooded it with requests it could only shed.
    const waiting: Array<() => void> = [];
    let inFlight = 0;
    const attempt = async (client: Client): Promise<{ ex: Exchange; shed: number }> => {
      let shed = 0;
      for (let tries = 0; ; tries++) {
        inFlight += 1;
        const ex = await client.call('login', { body: { email: account.email, password: ctx.accounts.newPassword() }, pace: false, expect: [401, 429, 503] });
        inFlight -= 1;
        const busy = ex.status === 503 && ex.body?.code === 'service_unavailable' && ex.headers['retry-after'] !== undefined;
        if (!busy || tries >= 9) {
          waiting.shift()?.();
          return { ex, shed };
        }
        shed += 1;
        if (inFlight > 0) await new Promise<void>((resolve) => waiting.push(resolve));
        else await ctx.sleep(1000 * Math.min(2, Math.max(1, Number(ex.headers['retry-after']) || 1)));
        client = ctx.newClient();
      }
    };
    const clients = Array.from({ length: Math.ceil(attempts / perClient) }, () => ctx.newClient());
    const results = await Promise.all(Array.from({ length: attempts }, (_, i) => attempt(clients[Math.floor(i / perClient)]!)));
    const answers = results.map((r) => r.ex).filter((ex) => ex.status !== 503);
    const shed = results.reduce((n, r) => n + r.shed, 0);
    const pending = results.length - answers.length;
    const rejected = answers.filter((ex) => ex.status === 401).length;
    const limited = answers.filter((ex) => ex.status === 429).length;
    ctx.note(`${attempts} parallel wrong passwords: ${rejected} × 401, ${limited} × 429${shed > 0 ? ` (${shed} answers were 503 with Retry-After while the server shed hashing load, and were sent again)` : ''}`);
    ctx.expect(rejected <= failures.limit, `${rejected} wrong passwords were checked, more than the ${failures.limit} the failure budget allows`, answers.find((ex) => ex.status === 401));
    ctx.expect(pending === 0 && rejected + limited === attempts, `unexpected answers: ${answers.filter((ex) => ex.status !== 401 && ex.status !== 429).map((ex) => ex.status).join(', ')}${pending > 0 ? ` (${pending} still 503 after 10 tries)` : ''}`);
    const right = await ctx.call('login', { body: { email: account.email, password: account.password }, pace: false, expect: 429 });
    expectProblem(ctx, right, 429, 'rate_limited', 'the right password once the failure budget is spent');
  },
};

const totpLockoutRace: CheckDef = {
  id: 'HARDENING-04',
  area,
  level: 'MUST',
  title: 'x-totp-lockout holds under concurrency: 15 parallel wrong codes to disableTotp get at most max_failures 422s, the rest 429 totp_locked, and TOTP is locked afterwards (SEC 15)',
  owns: {}, // TOTP stays locked on it: never given back
  requires: [feature.extension('x-totp-lockout')],
  timeoutMs: 180_000,
  async run(ctx: CheckContext) {
    const raw = ctx.contract.document?.['x-totp-lockout'] as { max_failures?: unknown; lock_seconds?: unknown } | undefined;
    const maxFailures = Number(raw?.max_failures);
    const lockSeconds = Number(raw?.lock_seconds);
    if (!Number.isInteger(maxFailures) || !Number.isInteger(lockSeconds)) ctx.skip('the contract documents no x-totp-lockout');
    const session = await ctx.accounts.own();
    const { device } = await enableTotp(ctx, session);
    const wrong = await device.wrongCode();
    const answers = await Promise.all(
      Array.from({ length: maxFailures * 3 }, () =>
        ctx.call('disableTotp', { token: session.token, body: { code: wrong }, expect: [422, 429] })),
    );
    const checked = answers.filter((ex) => ex.status === 422).length;
    const locked = answers.filter((ex) => ex.status === 429 && ex.body?.code === 'totp_locked').length;
    ctx.note(`${answers.length} parallel wrong codes: ${checked} × 422, ${locked} × 429 totp_locked`);
    ctx.expect(checked <= maxFailures, `${checked} wrong codes were checked, more than the ${maxFailures} before the lock`, answers.find((ex) => ex.status === 422));
    ctx.expect(checked + locked === answers.length, `unexpected answers: ${answers.filter((ex) => ex.status !== 422 && ex.status !== 429).map((ex) => ex.status).join(', ')}`);
    const right = await ctx.call('disableTotp', { token: session.token, body: { code: (await device.nextCode()).code }, expect: 429 });
    expectProblem(ctx, right, 429, 'totp_locked', 'a right code right after the parallel wrong ones');
    if (ctx.harness) {
      // Leave the account clean: wait the lock out on the server clock and disable TOTP.
      await ctx.harness.advanceClock((retryAfterSeconds(right) ?? lockSeconds) + 1);
      const off = await ctx.call('disableTotp', { token: session.token, body: withCurrentPassword(ctx.contract, 'disableTotp', { code: (await device.nextCode()).code }, session.account.password) });
      ctx.expect(off.status === 200, `disableTotp once the lock passed: expected 200, got ${off.status}`, off);
    }
  },
};

const recentAuthentication: CheckDef = {
  id: 'HARDENING-05',
  area,
  level: 'MUST',
  title: 'x-recent-authentication: with a session older than the window, createApiKey, verifyTotp and disableTotp answer 403 reauthentication_required, a wrong current_password 403 invalid_current_password, the right one succeeds',
  needs: ['harness'],
  requires: [
    feature.extension('x-recent-authentication'),
    ...['createApiKey', 'verifyTotp', 'disableTotp'].map((op) => feature.requestField(op, 'current_password')),
  ],
  cost: { register: 1, login: 1 },
  timeoutMs: 180_000,
  async run(ctx: CheckContext) {
    const maxAge = Number(ctx.contract.document?.['x-recent-authentication']?.max_age_seconds);
    if (!Number.isInteger(maxAge) || maxAge < 1) ctx.skip('the contract documents no x-recent-authentication');
    const session = await ctx.accounts.login(await ctx.accounts.create());
    const password = session.account.password;
    const provision = await ctx.call('provisionTotp', { token: session.token });
    ctx.expectStatus(provision, 200, 'provisionTotp with a fresh session');
    await ctx.harness!.advanceClock(maxAge + 5);
    const device = deviceFor(ctx, String(provision.body?.secret));

    const key = await ctx.call('createApiKey', { token: session.token, body: { name: 'stolen token' } });
    expectProblem(ctx, key, 403, 'reauthentication_required', 'createApiKey with an old session and no current_password');
    const guess = await ctx.call('createApiKey', { token: session.token, body: { name: 'guess', current_password: ctx.accounts.newPassword() } });
    expectProblem(ctx, guess, 403, 'invalid_current_password', 'createApiKey with an old session and a wrong current_password');
    const verify = await ctx.call('verifyTotp', { token: session.token, body: { code: (await device.nextCode()).code } });
    expectProblem(ctx, verify, 403, 'reauthentication_required', 'verifyTotp with an old session and no current_password');
    const enabled = await ctx.call('verifyTotp', { token: session.token, body: { code: (await device.nextCode()).code, current_password: password } });
    ctx.expectStatus(enabled, 200, 'verifyTotp with an old session and the right current_password');
    ctx.defer(`disable TOTP of ${session.account.email}`, async () => {
      const off = await ctx.call('disableTotp', { token: session.token, body: { code: (await device.nextCode()).code, current_password: password } });
      if (off.status !== 200 && off.status !== 409) throw new Error(`disableTotp answered ${off.status}`);
    });
    const disable = await ctx.call('disableTotp', { token: session.token, body: { code: (await device.nextCode()).code } });
    expectProblem(ctx, disable, 403, 'reauthentication_required', 'disableTotp with an old session and no current_password');
    const created = await ctx.call('createApiKey', { token: session.token, body: { name: 'owner', current_password: password } });
    ctx.expect(created.status === 201, `createApiKey with the right current_password: expected 201, got ${created.status}`, created);
    if (created.status === 201) {
      const id = String(created.body?.id);
      ctx.defer(`revoke API key ${id}`, async () => void (await ctx.call('revokeApiKey', { token: session.token, params: { keyId: id } })));
    }
  },
};

const resetRecipientBudget: CheckDef = {
  id: 'HARDENING-06',
  area,
  level: 'MUST',
  title: 'x-rate-limit-recipient: beyond the per-address budget a reset request gets the same 200 but neither mails nor voids the live token',
  needs: ['smtp'],
  requires: [feature.extension('x-rate-limit-recipient', 'requestPasswordReset')],
  cost: { register: 1, 'password-reset-request': 4, 'password-reset-confirm': 1 },
  timeoutMs: 240_000,
  async run(ctx: CheckContext) {
    const raw = ctx.contract.document?.paths?.['/auth/password-reset/request']?.post?.['x-rate-limit-recipient'] as { limit?: unknown } | undefined;
    const limit = Number(raw?.limit);
    if (!Number.isInteger(limit) || limit < 1) ctx.skip('requestPasswordReset documents no x-rate-limit-recipient');
    const account = await ctx.accounts.create();
    let last = await requestResetMail(ctx, account.email);
    for (let i = 2; i <= limit; i += 1) last = await requestResetMail(ctx, account.email);
    // From another client address (with a client-ip header: one of its own): the per-address
    // budget (3 a minute) must not be what holds this request back — nor make the check wait
    // a minute for it. The per-recipient budget is what is tested.
    const over = await ctx.newClient().call('requestPasswordReset', { body: { email: account.email } });
    ctx.expect(over.status === 200, `reset request #${limit + 1} for one address: expected the same 200, got ${over.status}`, over);
    ctx.expect(over.text === last.request.text, 'reset request beyond the budget answered a different body', over);
    const newPassword = ctx.accounts.newPassword();
    const confirmed = await confirmReset(ctx, last.token, newPassword);
    ctx.expect(confirmed.status === 200, `the token of mail #${limit} after request #${limit + 1}: expected 200 (not voided), got ${confirmed.status}`, confirmed);
    if (confirmed.status === 200) account.password = newPassword;
  },
};

const resetRevokesKeys: CheckDef = {
  id: 'HARDENING-07',
  area,
  level: 'MUST',
  title: 'A password reset revokes every API key of the account (a key minted with a stolen session does not outlive the reset)',
  needs: ['smtp'],
  cost: { 'password-reset-request': 1, 'password-reset-confirm': 1 },
  requires: [rules.resetRevokesApiKeys],
  owns: { mails: 1 }, // not given back: it had an API key (KEYS-20 fills the quota of a pooled account)
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.own({ mails: 1 });
    const key = await createKey(ctx, session);
    const before = await ctx.call('getCurrentUser', { token: key.key });
    ctx.expectStatus(before, 200, 'the API key before the reset');
    const { token } = await requestResetMail(ctx, session.account.email);
    const newPassword = ctx.accounts.newPassword();
    const confirmed = await confirmReset(ctx, token, newPassword);
    ctx.expectStatus(confirmed, 200, 'confirmPasswordReset with the mailed token');
    session.account.password = newPassword;
    const after = await ctx.call('getCurrentUser', { token: key.key, expect: 401 });
    expectProblem(ctx, after, 401, 'invalid_token', 'the API key after a password reset');
  },
};

export const hardeningChecks: CheckDef[] = [forgedLeftMost, hugeClientIpHeader, failureBudgetRace, totpLockoutRace, recentAuthentication, resetRecipientBudget, resetRevokesKeys];
