import { randomBytes } from 'node:crypto';
import type { Account, CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { expectProblem, expectStatusSoft } from '../lib/problems.ts';
import { confirmReset, requestResetMail } from '../lib/reset-flow.ts';
import { MIN_VALID, timePairs, unexpected } from '../lib/timing-sample.ts';
import { recipientLimit } from '../framework/accounts.ts';

// Password reset (SECURITY.md 17–19, 10). Tokens are read from the mail the deployment sends
// to the suite's SMTP sink, as a user would: never from a side channel.

const area = 'password-reset';

function sameAnswer(ctx: CheckContext, a: Exchange, b: Exchange, what: string): void {
  ctx.expect(a.status === 200 && b.status === 200, `${what}: both must answer 200 (got ${a.status} and ${b.status})`, b);
  ctx.expect(a.text === b.text, `${what}: bodies differ (${JSON.stringify(a.text)} vs ${JSON.stringify(b.text)}), which reveals whether the address exists`, b);
  ctx.expect(
    (a.headers['content-type'] ?? '') === (b.headers['content-type'] ?? ''),
    `${what}: Content-Type differs (${a.headers['content-type']} vs ${b.headers['content-type']})`,
    b,
  );
}

/** Logs the account in with its (new) password and checks the old one is refused. */
async function expectPasswordSwitched(ctx: CheckContext, account: { email: string; password: string }, oldPassword: string): Promise<void> {
  const fresh = await ctx.call('login', { body: { email: account.email, password: account.password } });
  expectStatusSoft(ctx, fresh, 200, 'login with the new password');
  const old = await ctx.call('login', { body: { email: account.email, password: oldPassword } });
  expectProblem(ctx, old, 401, 'invalid_credentials', 'login with the password from before the reset');
}

const enumerationProof: CheckDef = {
  id: 'RESET-01',
  area,
  level: 'MUST',
  title: 'Reset request answers one byte-identical 200 for a registered and an unknown address (SEC 17)',
  cost: { 'password-reset-request': 2 },
  // Not given back: the mail it asks for is never taken from the sink (no SMTP needed here).
  owns: { session: false, mails: 1 },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 1 });
    const known = await ctx.call('requestPasswordReset', { body: { email: account.email } });
    const unknown = await ctx.call('requestPasswordReset', { body: { email: ctx.accounts.newEmail() } });
    sameAnswer(ctx, known, unknown, 'registered vs unknown address');
    ctx.expect(typeof known.body?.message === 'string', 'the answer must be a Message', known);
  },
};

const enumerationDeactivated: CheckDef = {
  id: 'RESET-02',
  area,
  level: 'MUST',
  title: 'Reset request answers the same byte-identical 200 for a deactivated address (SEC 17)',
  needs: ['harness'],
  cost: { register: 1, 'password-reset-request': 2 },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.create();
    await ctx.harness!.deactivateAccount(account.email);
    ctx.defer(`re-activate ${account.email}`, async () => void (await ctx.harness!.activateAccount(account.email)));
    const deactivated = await ctx.call('requestPasswordReset', { body: { email: account.email } });
    const unknown = await ctx.call('requestPasswordReset', { body: { email: ctx.accounts.newEmail() } });
    sameAnswer(ctx, deactivated, unknown, 'deactivated vs unknown address');
  },
};

const linkFromPublicUrl: CheckDef = {
  id: 'RESET-03',
  area,
  level: 'MUST',
  title: 'The reset mail arrives over SMTP with a 256-bit token link built from the configured public URL, never from the Host / X-Forwarded-Host the client sent (SEC 18)',
  needs: ['smtp'],
  cost: { 'password-reset-request': 1 },
  owns: { session: false, mails: 1, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 1, giveBack: true });
    const bogus = `attacker-${ctx.runId}.invalid`;
    const { link, request } = await requestResetMail(ctx, account.email, {
      host: bogus,
      'x-forwarded-host': bogus,
      'x-forwarded-proto': 'http',
      'x-original-host': bogus,
    });
    ctx.expect(!link.host.includes('attacker-'), `the link points at the host the client sent (${link.origin}): reset tokens can be stolen (host header poisoning)`, request);
    ctx.expect(link.protocol === 'https:' || link.protocol === 'http:', `the link must be an http(s) URL, got ${link.protocol}`, request);
    const base = new URL(ctx.options.baseUrl);
    if (link.origin !== base.origin) ctx.note(`reset links point at ${link.origin} (the suite talks to ${base.origin})`);
  },
};

const singleUse: CheckDef = {
  id: 'RESET-04',
  area,
  level: 'MUST',
  title: 'A reset token sets the new password once: the old password stops working and the same token is refused afterwards (400 invalid_reset_token) (SEC 18)',
  needs: ['smtp'],
  cost: { login: 2, 'password-reset-request': 1, 'password-reset-confirm': 2 },
  owns: { session: false, mails: 1, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 1, giveBack: true });
    const { token } = await requestResetMail(ctx, account.email);
    const oldPassword = account.password;
    const newPassword = ctx.accounts.newPassword();
    const ok = await confirmReset(ctx, token, newPassword);
    ctx.expectStatus(ok, 200, 'confirm with the mailed token');
    account.password = newPassword;
    // "Password has been reset" is only the contract's example of a Message: any text will do.
    ctx.expect(typeof ok.body?.message === 'string', `the answer must be a Message, got ${JSON.stringify(ok.body)}`, ok);
    await expectPasswordSwitched(ctx, account, oldPassword);
    const again = await confirmReset(ctx, token, ctx.accounts.newPassword());
    expectProblem(ctx, again, 400, 'invalid_reset_token', 'the same token a second time');
  },
};

const weakDoesNotSpend: CheckDef = {
  id: 'RESET-05',
  area,
  level: 'MUST',
  title: 'A refused new password (too short 422, equal to the e-mail 422 weak_password) does not spend the reset token (SEC 1, 18)',
  needs: ['smtp'],
  cost: { 'password-reset-request': 1, 'password-reset-confirm': 3 },
  owns: { session: false, mails: 1, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 1, giveBack: true });
    const { token } = await requestResetMail(ctx, account.email);
    const short = await confirmReset(ctx, token, 'short-pw');
    expectStatusSoft(ctx, short, 422, 'a new password of 8 characters');
    const sameAsEmail = await confirmReset(ctx, token, account.email);
    expectProblem(ctx, sameAsEmail, 422, 'weak_password', 'a new password equal to the account e-mail');
    const newPassword = ctx.accounts.newPassword();
    const ok = await confirmReset(ctx, token, newPassword);
    ctx.expectStatus(ok, 200, 'a strong password with the same token after the refusals');
    account.password = newPassword;
    // That the password is then the new one (and the old one refused) is RESET-04's to check.
  },
};

const concurrentConfirm: CheckDef = {
  id: 'RESET-06',
  area,
  level: 'MUST',
  title: 'A reset token is spent atomically: 5 concurrent confirms → exactly one 200, the rest 400 (SEC 18)',
  needs: ['smtp'],
  cost: { 'password-reset-request': 1, 'password-reset-confirm': 5 },
  owns: { session: false, mails: 1, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 1, giveBack: true });
    const { token } = await requestResetMail(ctx, account.email);
    const passwords = Array.from({ length: 5 }, () => ctx.accounts.newPassword());
    const answers = await Promise.all(passwords.map((p) => confirmReset(ctx, token, p)));
    const winners = answers.flatMap((a, i) => (a.status === 200 ? [i] : []));
    if (winners.length === 1) account.password = passwords[winners[0]!]!;
    ctx.expect(winners.length === 1, `expected exactly one 200 among 5 concurrent confirms, got ${winners.length} (statuses ${answers.map((a) => a.status).join(',')})`, answers[winners[1] ?? 0]);
    answers.forEach((a, i) => {
      if (!winners.includes(i)) expectProblem(ctx, a, 400, 'invalid_reset_token', 'a concurrent confirm that lost the race');
    });
  },
};

const newerVoidsOlder: CheckDef = {
  id: 'RESET-07',
  area,
  level: 'MUST',
  title: 'A newer reset request voids the older token (SEC 18)',
  needs: ['smtp'],
  cost: { 'password-reset-request': 2, 'password-reset-confirm': 2 },
  owns: { session: false, mails: 2, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 2, giveBack: true });
    const older = await requestResetMail(ctx, account.email);
    const newer = await requestResetMail(ctx, account.email);
    ctx.expect(older.token !== newer.token, 'two requests mailed the same token', newer.request);
    const stale = await confirmReset(ctx, older.token, ctx.accounts.newPassword());
    expectProblem(ctx, stale, 400, 'invalid_reset_token', 'the older token after a newer request');
    const newPassword = ctx.accounts.newPassword();
    const ok = await confirmReset(ctx, newer.token, newPassword);
    if (expectStatusSoft(ctx, ok, 200, 'the newer token')) account.password = newPassword;
  },
};

const expiry: CheckDef = {
  id: 'RESET-08',
  area,
  level: 'MUST',
  title: 'A reset token works at 50 minutes and is refused after 1 hour (harness clock) (SEC 18)',
  needs: ['smtp', 'harness'],
  cost: { register: 2, 'password-reset-request': 2, 'password-reset-confirm': 2 },
  async run(ctx: CheckContext) {
    const harness = ctx.harness!;
    // Two accounts, two tokens issued together, so the clock moves one hour in all: the
    // server clock only ever moves forward (moving it back would keep rate-limit windows
    // opened meanwhile open for as long; the framework expires the sessions it outlives).
    const young = await ctx.accounts.create();
    const old = await ctx.accounts.create();
    const first = await requestResetMail(ctx, young.email);
    const second = await requestResetMail(ctx, old.email);
    await harness.advanceClock(50 * 60);
    const newPassword = ctx.accounts.newPassword();
    const early = await confirmReset(ctx, first.token, newPassword);
    if (expectStatusSoft(ctx, early, 200, 'a token 50 minutes old')) young.password = newPassword;
    await harness.advanceClock(10 * 60 + 5);
    const late = await confirmReset(ctx, second.token, ctx.accounts.newPassword());
    expectProblem(ctx, late, 400, 'invalid_reset_token', 'a token 1 hour and 5 seconds old');
  },
};

const revokesSessions: CheckDef = {
  id: 'RESET-09',
  area,
  level: 'MUST',
  title: 'A confirmed reset revokes every session of the user (401 invalid_token) (SEC 10)',
  needs: ['smtp'],
  cost: { login: 1, 'password-reset-request': 1, 'password-reset-confirm': 1 },
  owns: { mails: 1, giveBack: true },
  async run(ctx: CheckContext) {
    const a = await ctx.accounts.own({ mails: 1, giveBack: true });
    const account = a.account;
    const b = await ctx.accounts.login(account);
    const { token } = await requestResetMail(ctx, account.email);
    const newPassword = ctx.accounts.newPassword();
    const ok = await confirmReset(ctx, token, newPassword);
    ctx.expectStatus(ok, 200, 'confirm with the mailed token');
    account.password = newPassword;
    for (const [name, session] of [['first', a], ['second', b]] as const) {
      const me = await ctx.call('getCurrentUser', { token: session.token, expect: 401 });
      expectProblem(ctx, me, 401, 'invalid_token', `the ${name} session after the reset`);
    }
  },
};

const badTokens: CheckDef = {
  id: 'RESET-10',
  area,
  level: 'MUST',
  title: 'Confirm refuses a token it never issued, well-formed or not (400 invalid_reset_token), and one outside the schema (422)',
  cost: { 'password-reset-confirm': 3 },
  hashes: 0,
  async run(ctx: CheckContext) {
    const unknown = await confirmReset(ctx, randomBytes(32).toString('base64url'), ctx.accounts.newPassword());
    expectProblem(ctx, unknown, 400, 'invalid_reset_token', 'a well-formed token that was never issued');
    const garbled = await confirmReset(ctx, 'not-a-token!', ctx.accounts.newPassword());
    ctx.expect(garbled.status === 400 || garbled.status === 422, `a garbled token: expected 400 or 422, got ${garbled.status}`, garbled);
    // The schema's own bounds for `token`, from the contract.
    const schema = ctx.contract.resolve(ctx.contract.operation('confirmPasswordReset').requestSchema) as { properties?: Record<string, unknown> } | undefined;
    const tokenSchema = ctx.contract.resolve(schema?.properties?.token) as { maxLength?: number } | undefined;
    if (typeof tokenSchema?.maxLength === 'number') {
      const tooLong = await confirmReset(ctx, 'a'.repeat(tokenSchema.maxLength + 1), ctx.accounts.newPassword());
      expectProblem(ctx, tooLong, 422, 'validation_failed', `a token longer than the schema's maxLength ${tokenSchema.maxLength}`);
    } else {
      ctx.note('the contract gives the reset token no maxLength: the 422 case is not probed');
    }
  },
};

const SLOW_SMTP_MS = 500;
/** 8 + 8: the rank test reaches p < 0.01 from 6 + 6; room for discarded samples. */
const RESET_TIMING_PAIRS = 8;
/** A difference whose whole 95 % interval is beyond this is a leak (mail delivery, or token
 * issuing that waits for it, is hundreds of ms; an insert of a token is not). */
const RESET_LARGE_MS = 50;
/** How long a registered sample's reset mail may take to reach the sink. */
const RESET_MAIL_WAIT_MS = 10_000;

const noSlowerForKnown: CheckDef = {
  id: 'RESET-11',
  area,
  level: 'MUST',
  title: 'A reset request for a registered address is not slower than for an unknown one, even when mail delivery is slow: no significant (p < 0.01) difference wholly beyond 50 ms (a smaller significant one warns); every sample a 200, every registered one mailed (SEC 17)',
  needs: ['smtp', 'clientIp'],
  cost: { register: 3, 'password-reset-request': RESET_TIMING_PAIRS * 2 },
  async run(ctx: CheckContext) {
    const sink = ctx.mail as { acceptDelayMs?: number };
    if (typeof sink.acceptDelayMs !== 'number') ctx.skip('this SMTP sink cannot slow its answers down');
    // Every registered sample must take the timed path (a token issued and a mail sent): an
    // address past its per-recipient budget gets the same 200 but no mail, so the samples are
    // spread over enough fresh accounts that none exceeds it (and its mail is awaited).
    const perAccount = recipientLimit(ctx.contract);
    const accounts: Account[] = [];
    for (let i = 0; i < Math.ceil(RESET_TIMING_PAIRS / perAccount); i += 1) accounts.push(await ctx.accounts.create({ client: ctx.newClient() }));
    let client = ctx.client;
    sink.acceptDelayMs = SLOW_SMTP_MS;
    try {
      await timePairs(ctx, {
        labels: ['unknown address', 'registered address'],
        pairs: RESET_TIMING_PAIRS,
        minValid: MIN_VALID,
        largeMs: RESET_LARGE_MS,
        // Each pair from a fresh simulated client: the per-IP budget (3 a minute) never binds.
        beforePair: async () => {
          client = ctx.newClient();
        },
        baseline: async () => {
          const exchange = await client.call('requestPasswordReset', { body: { email: ctx.accounts.newEmail() }, alone: true });
          return { exchange, invalid: unexpected(exchange, 200) };
        },
        suspect: async (i) => {
          const exchange = await client.call('requestPasswordReset', { body: { email: accounts[i % accounts.length]!.email }, alone: true });
          return { exchange, invalid: unexpected(exchange, 200) };
        },
        // The registered address's mail must come (else the sample did not time the path that
        // sends it); awaited before the next pair so no delivery overlaps a timed request.
        afterPair: async (i, { suspect }) => {
          if (suspect.invalid !== undefined) return;
          const email = accounts[i % accounts.length]!.email;
          // Fresh accounts, their earlier mails taken pair by pair: the next one is this sample's.
          try {
            await ctx.mail!.waitForMail(email, RESET_MAIL_WAIT_MS);
          } catch {
            suspect.invalid = `no reset mail reached the SMTP sink within ${RESET_MAIL_WAIT_MS / 1000} s: no token was issued or mailed, the timed path did not run`;
          }
        },
        leak: 'the registered address answers slower: the response waits for the token or its mail, which tells which addresses have an account',
        context: `(SMTP answering after ${SLOW_SMTP_MS} ms)`,
      });
    } finally {
      sink.acceptDelayMs = 0;
    }
  },
};

export const passwordResetChecks: CheckDef[] = [
  enumerationProof,
  enumerationDeactivated,
  linkFromPublicUrl,
  singleUse,
  weakDoesNotSpend,
  concurrentConfirm,
  newerVoidsOlder,
  expiry,
  revokesSessions,
  badTokens,
  noSlowerForKnown,
];
export default passwordResetChecks;
