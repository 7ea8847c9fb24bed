import { wrongPassword } from '../framework/accounts.ts';
import type { CheckContext, CheckDef } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';

// Registration (SECURITY.md 1): the answer, unique addresses, the password policy.

const area = 'accounts';

/** Passwords of 15+ characters that every list of breached / common passwords carries. */
const COMMON_LONG_PASSWORDS = ['123456789012345', '1q2w3e4r5t6y7u8i', 'correcthorsebatterystaple'];

function registerBody(ctx: CheckContext, password: string, email = ctx.accounts.newEmail()) {
  return { email, password, full_name: 'Conformance Check' };
}

const registerAnswer: CheckDef = {
  id: 'ACCOUNTS-01',
  area,
  level: 'MUST',
  title: 'Register answers 201 with the new account (id, e-mail as given, name, active, created_at) and never echoes the password',
  cost: { register: 1 },
  givesBack: ['session'],
  async run(ctx: CheckContext) {
    const email = ctx.accounts.newEmail().replace('qz-conf', 'QZ-Conf');
    const password = ctx.accounts.newPassword();
    const ex = await ctx.call('register', { body: { email, password, full_name: 'Jane Conformance', company_name: 'Acme Corp' } });
    ctx.expectStatus(ex, 201, 'registering a fresh address');
    ctx.expect(ex.body?.email === email, `email: expected ${email} (as given), got ${JSON.stringify(ex.body?.email)}`, ex);
    ctx.expect(ex.body?.full_name === 'Jane Conformance', `full_name: got ${JSON.stringify(ex.body?.full_name)}`, ex);
    ctx.expect(ex.body?.is_active === true, `is_active: expected true, got ${JSON.stringify(ex.body?.is_active)}`, ex);
    ctx.expect(!ex.text.includes(password), 'the response echoes the password', ex);
    const created = Date.parse(String(ex.body?.created_at));
    const serverNow = Date.parse(ex.headers['date'] ?? '');
    if (!Number.isNaN(serverNow)) {
      ctx.expect(Math.abs(created - serverNow) < 5 * 60_000, `created_at ${ex.body?.created_at} is far from the server's Date ${ex.headers['date']}`, ex);
    }
    const login = await ctx.call('login', { body: { email, password } });
    ctx.expectStatus(login, 200, 'logging in with the new account');
    ctx.expect(login.body?.user?.id === ex.body?.id, 'login user.id differs from the id register returned', login);
    ctx.accounts.giveBack(email, { login });
  },
};

const duplicateEmail: CheckDef = {
  id: 'ACCOUNTS-02',
  area,
  level: 'MUST',
  title: 'Registering a taken address again, in any letter case, answers 409 email_taken',
  cost: { register: 3 },
  givesBack: ['account'],
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.create();
    ctx.accounts.giveBack(account);
    const same = await ctx.call('register', { body: registerBody(ctx, ctx.accounts.newPassword(), account.email) });
    expectProblem(ctx, same, 409, 'email_taken', 'the same address again');
    const upper = account.email.toUpperCase();
    const cased = await ctx.call('register', { body: registerBody(ctx, ctx.accounts.newPassword(), upper) });
    expectProblem(ctx, cased, 409, 'email_taken', `the address in upper case (${upper})`);
  },
};

const weakPasswords: CheckDef = {
  id: 'ACCOUNTS-03',
  area,
  level: 'MUST',
  title: 'Common passwords and a password equal to the e-mail are refused with 422 weak_password pointing at /password (SEC 1)',
  cost: { register: COMMON_LONG_PASSWORDS.length + 1 },
  hashes: 0, // refused 422 before any hash
  async run(ctx: CheckContext) {
    for (const password of COMMON_LONG_PASSWORDS) {
      const ex = await ctx.call('register', { body: registerBody(ctx, password) });
      if (expectProblem(ctx, ex, 422, 'weak_password', `the common password "${password}"`)) {
        const pointers = Array.isArray(ex.body?.errors) ? ex.body.errors.map((e: { pointer?: string }) => e.pointer) : [];
        ctx.expect(pointers.includes('/password'), `weak_password errors should point at /password, got ${JSON.stringify(pointers)}`, ex);
      }
      ctx.expect(!ex.text.includes(password), 'the problem echoes the refused password', ex);
    }
    const email = ctx.accounts.newEmail();
    const same = await ctx.call('register', { body: registerBody(ctx, email, email) });
    expectProblem(ctx, same, 422, 'weak_password', 'a password equal to the e-mail address');
  },
};

/** The password bounds the contract documents for registration (never a copy of them). */
function passwordBounds(ctx: CheckContext): { min: number; max: number } {
  const schema = ctx.contract.resolve(ctx.contract.operation('register').requestSchema) as { properties?: Record<string, unknown> } | undefined;
  const password = ctx.contract.resolve(schema?.properties?.['password']) as { minLength?: number; maxLength?: number } | undefined;
  if (typeof password?.minLength !== 'number' || typeof password.maxLength !== 'number') {
    ctx.fail('the contract documents no minLength / maxLength for the register password');
  }
  return { min: password.minLength, max: password.maxLength };
}

const passwordLength: CheckDef = {
  id: 'ACCOUNTS-04',
  area,
  level: 'MUST',
  title: 'Passwords of the documented length (15 to 128 characters) are accepted, one shorter or longer refused with 422 (SEC 1)',
  cost: { register: 4, login: 2 },
  givesBack: ['session', 'session'],
  async run(ctx: CheckContext) {
    const { min, max } = passwordBounds(ctx);
    const make = (n: number): string => `${ctx.accounts.newPassword()}${'x7Ü'.repeat(Math.ceil(n / 3))}`.slice(0, n);
    for (const n of [min - 1, max + 1]) {
      const ex = await ctx.call('register', { body: registerBody(ctx, make(n)) });
      expectProblem(ctx, ex, 422, 'validation_failed', `a ${n}-character password`);
    }
    for (const n of [min, max]) {
      const password = make(n);
      const email = ctx.accounts.newEmail();
      const ex = await ctx.call('register', { body: registerBody(ctx, password, email) });
      if (!ctx.expect(ex.status === 201, `a ${n}-character password: expected 201, got ${ex.status} ${ex.body?.code ?? ''}`, ex)) continue;
      const login = await ctx.call('login', { body: { email, password } });
      ctx.expect(login.status === 200, `login with the ${n}-character password: expected 200, got ${login.status}`, login);
      ctx.accounts.giveBack(email, { login });
    }
  },
};

const unicodeUntrimmed: CheckDef = {
  id: 'ACCOUNTS-05',
  area,
  level: 'MUST',
  title: 'Any Unicode password works exactly as typed: never trimmed, never case-folded (SEC 1)',
  cost: { register: 1, login: 3 },
  givesBack: ['session'],
  async run(ctx: CheckContext) {
    const password = `  Pässwörd ${ctx.accounts.newPassword()} 密码 🔑 Ωμέγα  `;
    const account = await ctx.accounts.create({ password });
    const exact = await ctx.call('login', { body: { email: account.email, password } });
    ctx.accounts.giveBack(account, { login: exact });
    ctx.expect(exact.status === 200, `login with the exact Unicode password: expected 200, got ${exact.status}`, exact);
    const trimmed = await ctx.call('login', { body: { email: account.email, password: password.trim() } });
    ctx.expect(trimmed.status === 401, `login with the password trimmed: expected 401 (passwords are not trimmed), got ${trimmed.status}`, trimmed);
    const upper = await ctx.call('login', { body: { email: account.email, password: password.toUpperCase() } });
    ctx.expect(upper.status === 401, `login with the password upper-cased: expected 401 (no case folding), got ${upper.status}`, upper);
    // Only informative (either answer is conformant): not worth a tenth of a shared address's
    // login budget.
    const nfd = password.normalize('NFD');
    if (nfd !== password && ctx.options.clientIpHeader) {
      const decomposed = await ctx.call('login', { body: { email: account.email, password: nfd } });
      ctx.note(`the NFD form of the password answered ${decomposed.status} (NIST allows normalising; either is conformant)`);
    }
  },
};

const changePassword: CheckDef = {
  id: 'ACCOUNTS-06',
  area,
  level: 'MUST',
  title: 'Changing the password needs the current one (403 invalid_current_password), applies the policy (422), then only the new one works and other sessions are revoked (SEC 1, 3, 10)',
  cost: { login: 3 },
  owns: { giveBack: true },
  async run(ctx: CheckContext) {
    const current = await ctx.accounts.own({ giveBack: true });
    const account = current.account;
    const other = await ctx.accounts.login(account);
    const wrong = await ctx.call('changePassword', { token: current.token, body: { current_password: wrongPassword(account.password), new_password: ctx.accounts.newPassword() } });
    expectProblem(ctx, wrong, 403, 'invalid_current_password', 'a wrong current password');
    const weak = await ctx.call('changePassword', { token: current.token, body: { current_password: account.password, new_password: COMMON_LONG_PASSWORDS[0] } });
    expectProblem(ctx, weak, 422, 'weak_password', 'a common new password');
    const old = account.password;
    const next = ctx.accounts.newPassword();
    const changed = await ctx.call('changePassword', { token: current.token, body: { current_password: old, new_password: next } });
    ctx.expectStatus(changed, 200, 'changing the password with the right current one');
    account.password = next;
    ctx.expect(typeof changed.body?.message === 'string', 'the answer has no message', changed);
    const withOld = await ctx.call('login', { body: { email: account.email, password: old } });
    ctx.expect(withOld.status === 401, `the old password should no longer work, got ${withOld.status}`, withOld);
    const withNew = await ctx.call('login', { body: { email: account.email, password: next } });
    ctx.expect(withNew.status === 200, `the new password should work, got ${withNew.status}`, withNew);
    const kept = await ctx.call('getCurrentUser', { token: current.token });
    ctx.expect(kept.status === 200, `the session that changed the password should be kept, got ${kept.status}`, kept);
    const revoked = await ctx.call('getCurrentUser', { token: other.token });
    expectProblem(ctx, revoked, 401, 'invalid_token', 'another session after the password change');
  },
};

export const accountsChecks: CheckDef[] = [registerAnswer, duplicateEmail, weakPasswords, passwordLength, unicodeUntrimmed, changePassword];
