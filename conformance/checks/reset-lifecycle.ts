import { feature, rules } from '../framework/features.ts';
import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';
import { confirmReset, requestResetMail } from '../lib/reset-flow.ts';
import { linksInMail } from '../lib/smtp-sink.ts';

// Issue 17: reset tokens that die with their reason (SEC 30) and static answers that cannot be
// used as a weapon (SEC 29), as far as a black box can see them. "A newer request voids the
// older token" is RESET-07's (password-reset.ts).

/** How long to wait for the mails of the other concurrent requests once the first arrived. */
const MORE_MAIL_MS = 5000;

const deactivationVoids: CheckDef = {
  id: 'RESET-12',
  requires: [rules.deactivationVoidsResetToken],
  area: 'password-reset',
  level: 'MUST',
  title: 'Deactivation voids a pending reset token: a confirm answers 400 invalid_reset_token and, after reactivation, the old password still works (SEC 30)',
  needs: ['smtp', 'harness'],
  cost: { register: 1, login: 1, 'password-reset-request': 1, 'password-reset-confirm': 1 },
  async run(ctx: CheckContext) {
    const harness = ctx.harness!;
    const account = await ctx.accounts.create();
    const { token } = await requestResetMail(ctx, account.email);
    await harness.deactivateAccount(account.email);
    ctx.defer(`re-activate ${account.email}`, async () => void (await harness.activateAccount(account.email)));
    const refused = await confirmReset(ctx, token, ctx.accounts.newPassword(), { expect: 400 });
    expectProblem(ctx, refused, 400, 'invalid_reset_token', 'confirm with a token mailed before the account was deactivated');
    await harness.activateAccount(account.email);
    const again = await confirmReset(ctx, token, ctx.accounts.newPassword(), { expect: 400 });
    expectProblem(ctx, again, 400, 'invalid_reset_token', 'the same token after reactivation');
    // Fails the check unless the password from before the reset request is still the one in force.
    await ctx.accounts.login(account);
  },
};

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** The reset tokens mailed to `email` after `since` (ms): the first within the usual wait, the others briefly. */
async function tokensMailedSince(ctx: CheckContext, email: string, since: number, wanted: number, first: Exchange): Promise<string[]> {
  const tokens: string[] = [];
  const deadline = Date.now() + 15_000;
  while (tokens.length < wanted) {
    const wait = tokens.length === 0 ? deadline - Date.now() : MORE_MAIL_MS;
    if (wait <= 0) break;
    let mail;
    try {
      mail = await ctx.mail!.waitForMail(email, wait);
    } catch {
      break;
    }
    if (mail.receivedAt < since) continue; // an earlier check's mail to a pooled account
    const link = linksInMail(mail).map(parseUrl).find((url) => url?.searchParams.has('token'));
    if (link) tokens.push(link.searchParams.get('token')!);
  }
  ctx.require(tokens.length > 0, 'no reset mail reached the SMTP sink after the concurrent requests', first);
  return tokens;
}

const oneLiveToken: CheckDef = {
  id: 'RESET-13',
  area: 'password-reset',
  level: 'MUST',
  title: 'Of the tokens mailed for 3 concurrent reset requests of one account, exactly one sets a password; the others answer 400 invalid_reset_token (SEC 18, 30)',
  // From a fresh simulated client: from the suite's own address, three requests at once would
  // spend a whole reset-request window (about a minute of a run without a client-ip header).
  needs: ['smtp', 'clientIp'],
  cost: {},
  owns: { session: false, mails: 3, giveBack: true },
  async run(ctx: CheckContext) {
    const account = await ctx.accounts.ownAccount({ mails: 3, giveBack: true });
    const client = ctx.newClient();
    const sentAt = Date.now();
    const requests = await Promise.all([0, 1, 2].map(() => client.call('requestPasswordReset', { body: { email: account.email } })));
    for (const r of requests) ctx.expectStatus(r, 200, 'requestPasswordReset for a registered address');
    const tokens = await tokensMailedSince(ctx, account.email, sentAt - 1000, requests.length, requests[0]!);
    ctx.note(`${tokens.length} of ${requests.length} concurrent requests mailed a token`);
    const winners: number[] = [];
    const answers: Exchange[] = [];
    for (const [i, token] of tokens.entries()) {
      const password = ctx.accounts.newPassword();
      const answer = await client.call('confirmPasswordReset', { body: { token, new_password: password } });
      answers.push(answer);
      if (answer.status === 200) {
        winners.push(i);
        account.password = password;
      } else {
        expectProblem(ctx, answer, 400, 'invalid_reset_token', `token ${i + 1} of ${tokens.length}`);
      }
    }
    ctx.expect(winners.length === 1, `expected exactly one token to set a password, ${winners.length} did: an account had several live reset tokens`, answers[winners[1] ?? 0]);
  },
};

const STATIC_PATH = '/openapi.json';

const staticValidator: CheckDef = {
  id: 'HARDENING-08',
  requires: [feature.extension('x-static-rate-limit')],
  area: 'hardening',
  level: 'MUST',
  title: 'The bundled contract (GET /openapi.json) is cacheable with a strong ETag, and If-None-Match answers 304 without a body (contract "Outside this contract", SEC 29)',
  async run(ctx: CheckContext) {
    const first = await ctx.request('GET', STATIC_PATH, { unvalidated: true });
    if (first.status === 404) ctx.skip(`this deployment does not serve ${STATIC_PATH} (only the reference server must)`);
    ctx.expectStatus(first, 200, `GET ${STATIC_PATH}`);
    const etag = first.headers.etag ?? '';
    ctx.expect(/^"[^"]+"$/u.test(etag), `ETag must be a strong validator, got ${JSON.stringify(first.headers.etag ?? null)}`, first);
    ctx.expect(/\bpublic\b/u.test(first.headers['cache-control'] ?? ''), `Cache-Control must be public, got ${JSON.stringify(first.headers['cache-control'] ?? null)}`, first);
    ctx.expect(!Number.isNaN(Date.parse(first.headers['last-modified'] ?? '')), 'Last-Modified must be an HTTP date', first);
    ctx.require(etag !== '', 'no ETag: nothing to revalidate with', first);
    const cached = await ctx.request('GET', STATIC_PATH, { unvalidated: true, headers: { 'if-none-match': etag } });
    ctx.expect(cached.status === 304, `If-None-Match with the ETag: expected 304, got ${cached.status}`, cached);
    ctx.expect(cached.text === '', `a 304 has no body, got ${cached.text.length} bytes`, cached);
  },
};

const staticBudget: CheckDef = {
  id: 'HARDENING-09',
  requires: [feature.extension('x-static-rate-limit')],
  area: 'hardening',
  level: 'MUST',
  title: 'Static answers outside the contract have the documented per-IP budget (x-static-rate-limit): the request after it is 429 rate_limited with Retry-After (SEC 29)',
  needs: ['clientIp'],
  async run(ctx: CheckContext) {
    const budget = ctx.contract.document?.['x-static-rate-limit'] as { limit?: number; window_seconds?: number } | undefined;
    if (!Number.isInteger(budget?.limit)) ctx.skip('the contract documents no static budget (x-static-rate-limit)');
    const client = ctx.newClient();
    const probe = await client.request('HEAD', STATIC_PATH, { unvalidated: true, pace: false });
    if (probe.status === 404) ctx.skip(`this deployment does not serve ${STATIC_PATH} (only the reference server must)`);
    ctx.expectStatus(probe, 200, `HEAD ${STATIC_PATH}`);
    for (let i = 1; i < budget!.limit!; i++) {
      const ok = await client.request('HEAD', STATIC_PATH, { unvalidated: true, pace: false });
      ctx.require(ok.status === 200, `request ${i + 1} of ${budget!.limit} within the budget answered ${ok.status}`, ok);
    }
    const over = await client.request('GET', STATIC_PATH, { unvalidated: true, pace: false, expect: 429 });
    expectProblem(ctx, over, 429, 'rate_limited', `request ${budget!.limit! + 1} in one window`);
    ctx.expect(Number(over.headers['retry-after']) >= 1, `Retry-After must be an integer ≥ 1, got ${JSON.stringify(over.headers['retry-after'] ?? null)}`, over);
  },
};

export const resetLifecycleChecks: CheckDef[] = [deactivationVoids, oneLiveToken, staticValidator, staticBudget];
