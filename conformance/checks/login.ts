import { timeWrongPasswords } from '../lib/timing-sample.ts';
import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { decodeJwt } from '../lib/jwt-forge.ts';
import { expectProblem } from '../lib/problems.ts';

// Login and enumeration (SECURITY.md 4–6).

const area = 'login';

/** The problem body without members that may legitimately differ per request. */
function comparable(ex: Exchange): string {
  const body = { ...(ex.body ?? {}) } as Record<string, unknown>;
  delete body['instance'];
  return JSON.stringify(body);
}

const loginAnswer: CheckDef = {
  id: 'LOGIN-01',
  area,
  level: 'MUST',
  title: 'Login answers 200 with a bearer access token and the account summary, not cacheable',
  cost: { login: 1 },
  owns: { session: false, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount();
    const { exchange: ex } = await ctx.accounts.login(account);
    ctx.accounts.giveBack(account, { login: ex });
    ctx.expect(ex.body?.token_type === 'bearer', `token_type: expected "bearer", got ${JSON.stringify(ex.body?.token_type)}`, ex);
    ctx.expect(ex.body?.user?.email === account.email, 'user.email is not the account logged in', ex);
    ctx.expect(ex.body?.user?.id === account.id, 'user.id is not the id register returned', ex);
    ctx.expect(ex.body?.user?.totp_enabled === false, 'user.totp_enabled should be false for an account without TOTP', ex);
    ctx.expect(/no-store/iu.test(ex.headers['cache-control'] ?? ''), `a response carrying a token must be Cache-Control: no-store (got ${ex.headers['cache-control'] ?? 'none'}) (SEC 26)`, ex);
    ctx.expect(!ex.text.includes(account.password), 'the login answer echoes the password', ex);
  },
};

const sameAnswerUnknownOrWrong: CheckDef = {
  id: 'LOGIN-02',
  area,
  level: 'MUST',
  title: 'Unknown e-mail and wrong password get the same status, body and challenge: no account enumeration (SEC 4)',
  cost: { login: 2 },
  async run(ctx: CheckContext) {
    const { account } = await ctx.accounts.shared();
    const unknown = await ctx.call('login', { body: { email: ctx.accounts.newEmail(), password: ctx.accounts.newPassword() } });
    const wrong = await ctx.call('login', { body: { email: account.email, password: ctx.accounts.newPassword() } });
    expectProblem(ctx, unknown, 401, 'invalid_credentials', 'an unknown e-mail');
    expectProblem(ctx, wrong, 401, 'invalid_credentials', 'a wrong password');
    ctx.expect(unknown.status === wrong.status, `statuses differ: unknown e-mail ${unknown.status}, wrong password ${wrong.status}`, wrong);
    ctx.expect(comparable(unknown) === comparable(wrong), `bodies differ: unknown e-mail ${comparable(unknown)} vs wrong password ${comparable(wrong)}`, wrong);
    ctx.expect(
      unknown.headers['www-authenticate'] === wrong.headers['www-authenticate'],
      `WWW-Authenticate differs: ${unknown.headers['www-authenticate']} vs ${wrong.headers['www-authenticate']}`,
      wrong,
    );
  },
};

/** Pairs with distinct client addresses (a new one every 4 pairs: 8 logins + the warm-up fit
 * one per-IP window of 10) and with one shared address (the rank test needs at least 6 + 6 to
 * reach p < 0.01 at all; 8 + 8 leaves room for discarded samples). */
const TIMING_PAIRS_WITH_ADDRESSES = 12;
const TIMING_PAIRS = 8;
/** A difference whose whole 95 % interval is beyond this is a leak (a hash costs tens of ms). */
const LARGE_MS = 25;

const timing: CheckDef = {
  id: 'LOGIN-03',
  area,
  level: 'MUST',
  title: 'Unknown e-mail and wrong password take as long: no significant (p < 0.01) difference whose 95 % interval is wholly beyond 25 ms (a smaller significant one warns); every sample a 401 invalid_credentials (SEC 4)',
  cost: { login: TIMING_PAIRS * 2 + 1 },
  hashes: TIMING_PAIRS_WITH_ADDRESSES * 2 + 1,
  // With one address and no harness it runs among the others: its samples go on the wire alone
  // (framework/gate.ts), and the minute between its login windows serves every other check.
  async run(ctx: CheckContext) {
    const { account } = await ctx.accounts.shared();
    // Every sample a 401 from the password check: the shared account's failure budget is
    // emptied first when there is a harness, and any other answer is discarded and reported.
    await timeWrongPasswords(ctx, account.email, { suspect: 'wrong password', largeMs: LARGE_MS, pairs: [TIMING_PAIRS, TIMING_PAIRS_WITH_ADDRESSES] });
  },
};

const deactivated: CheckDef = {
  id: 'LOGIN-04',
  area,
  level: 'MUST',
  title: 'A deactivated account: wrong password → 401 like any other, right password → 403 account_deactivated, its sessions → 401 (SEC 5, 21)',
  needs: ['harness'],
  cost: { register: 1, login: 3 },
  async run(ctx: CheckContext) {
    const harness = ctx.harness!;
    const account = await ctx.accounts.create();
    const before = await ctx.accounts.login(account);
    await harness.deactivateAccount(account.email);
    ctx.defer(`re-activate ${account.email}`, async () => void (await harness.activateAccount(account.email)));
    const wrong = await ctx.call('login', { body: { email: account.email, password: ctx.accounts.newPassword() } });
    expectProblem(ctx, wrong, 401, 'invalid_credentials', 'a deactivated account with a wrong password (no hint that it exists)');
    const right = await ctx.call('login', { body: { email: account.email, password: account.password } });
    expectProblem(ctx, right, 403, 'account_deactivated', 'a deactivated account with the right password');
    ctx.expect(!right.text.includes('access_token'), 'a deactivated account got a token', right);
    const me = await ctx.call('getCurrentUser', { token: before.token });
    expectProblem(ctx, me, 401, 'invalid_token', 'a session of the account from before the deactivation');
    await harness.activateAccount(account.email);
    const again = await ctx.call('login', { body: { email: account.email, password: account.password } });
    ctx.expect(again.status === 200, `after re-activation the right password should work again, got ${again.status}`, again);
  },
};

const newSessionPerLogin: CheckDef = {
  id: 'LOGIN-05',
  area,
  level: 'MUST',
  title: 'Every login creates a new session: a different token with a new jti, both usable (SEC 6)',
  cost: { login: 2 },
  async run(ctx: CheckContext) {
    // The shared account: two more logins change nothing it relies on.
    const { account } = await ctx.accounts.shared();
    const first = await ctx.accounts.login(account);
    const second = await ctx.accounts.login(account);
    ctx.expect(first.token !== second.token, 'two logins returned the same token', second.exchange);
    let jtis: unknown[] = [];
    try {
      jtis = [decodeJwt(first.token).payload['jti'], decodeJwt(second.token).payload['jti']];
    } catch (error) {
      ctx.fail(`the access token is not a JWT: ${(error as Error).message}`, first.exchange);
    }
    ctx.expect(typeof jtis[0] === 'string' && jtis[0] !== '', 'the access token carries no jti', first.exchange);
    ctx.expect(jtis[0] !== jtis[1], `both logins carry jti ${String(jtis[0])}`, second.exchange);
    for (const session of [first, second]) {
      const me = await ctx.call('getCurrentUser', { token: session.token });
      ctx.expect(me.status === 200, `a token of the two logins is not usable: ${me.status}`, me);
    }
  },
};

const caseInsensitiveEmail: CheckDef = {
  id: 'LOGIN-06',
  area,
  level: 'SHOULD',
  title: 'Login matches the e-mail address case-insensitively (addresses are unique case-insensitively)',
  cost: { login: 1 },
  async run(ctx: CheckContext) {
    const { account } = await ctx.accounts.shared();
    const ex = await ctx.call('login', { body: { email: account.email.toUpperCase(), password: account.password } });
    ctx.expect(ex.status === 200, `login with the address upper-cased: expected 200, got ${ex.status}`, ex);
  },
};

export const loginChecks: CheckDef[] = [loginAnswer, sameAnswerUnknownOrWrong, timing, deactivated, newSessionPerLogin, caseInsensitiveEmail];
