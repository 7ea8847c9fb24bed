import { recipientLimit } from '../framework/accounts.ts';
import { randomBytes } from 'node:crypto';
import { feature, infoRules, type Feature } from '../framework/features.ts';
import type { CheckContext, CheckDef, Client, ContractOperation, Exchange, RateLimitPolicy } from '../framework/types.ts';
import { confirmReset, requestResetMail } from '../lib/reset-flow.ts';
import { expectProblem } from '../lib/problems.ts';
import { addressesOf, ipv4Spellings, randomSlash64 } from './client-identity.ts';
import { driveOpts, driverOf } from './rate-limits.ts';

// Issue 19, "equivalence classes of identity": every budget keyed by an account or a client is
// driven with ONE account (one client) in the several spellings the contract says are the same
// — so a budget keyed by the text as typed, not by the identity, is caught. What is "the same":
// - an account: the Email schema says addresses are "compared case-insensitively, so
//   `Jane@Example.com` and `jane@example.com` are the same account"; the failed-login budget
//   counts "per normalised e-mail address" (info "Rate limits"), the reset-mail budget "per
//   normalised address" (requestPasswordReset). The contract states NOTHING else about
//   addresses (no Unicode normalisation, and `format: email` admits no surrounding
//   whitespace): only letter case is tested, in the local part and in the domain.
// - a client: info "Rate limits" (2.1.0, SEC 28): "A client IP is one address in canonical
//   form: an IPv4-mapped IPv6 address (`::ffff:192.0.2.7`) is its IPv4 address, and an IPv6
//   client is its /64 network". RATE-09/RATE-10 hold login to it; here every per-IP budget is
//   (and the per-IP budget that requests without a valid credential spend under a token policy).

const area = 'rate-limits';
/** How long IDENTITY-02 listens for a mail that must not come (the reference mails in milliseconds). */
const MAIL_GRACE_MS = 2_000;

type Json = Record<string, any>;
const resolvedDescription = (c: { document: Json; resolve?: (node: unknown) => unknown }, node: unknown): string => {
  const resolved = (c.resolve ? c.resolve(node) : node) as Json | undefined;
  return String(resolved?.['description'] ?? '').replace(/\s+/gu, ' ');
};

/** The Email schema says addresses differing in letter case are the same account. */
export const emailCaseInsensitive: Feature = feature.rule('e-mail addresses are compared case-insensitively (Email schema)', (c) =>
  /compared case-insensitively/iu.test(resolvedDescription(c as never, c.document?.components?.schemas?.Email)));
/** info "Rate limits": the failed-login budget is counted per normalised address. */
const failuresPerNormalised = feature.rule('the failed-login budget counts per normalised e-mail address (info "Rate limits")', (c) =>
  /failed-login budget counts[^.]*per normalised e-mail address/iu.test(String(c.document?.info?.description ?? '').replace(/\s+/gu, ' ')));
/** requestPasswordReset: the recipient budget is counted per normalised address. */
const recipientPerNormalised = feature.rule('the reset-mail budget counts per normalised address (requestPasswordReset)', (c) =>
  /counted per normalised address/iu.test(String(c.document?.paths?.['/auth/password-reset/request']?.post?.description ?? '').replace(/\s+/gu, ' ')));
/** info "Rate limits": a request without a valid credential counts against its client IP. */
const anonymousCountsPerIp = feature.rule('a request without a valid credential counts against its client IP (info "Rate limits")', (c) =>
  /without a valid credential counts against its client IP/iu.test(String(c.document?.info?.description ?? '').replace(/\s+/gu, ' ')));

/**
 * The same address in other letter cases (the contract's equivalence: case-insensitive): as
 * registered, all upper case, each part capitalised (`Jane@Example.com`), the domain only
 * upper case, and alternating case. Each spelling differs from the others.
 */
export function caseSpellings(email: string): string[] {
  const lower = email.toLowerCase();
  const [local, domain] = [lower.slice(0, lower.lastIndexOf('@')), lower.slice(lower.lastIndexOf('@') + 1)];
  const capitalise = (s: string) => s.replace(/[a-z]/u, (ch) => ch.toUpperCase());
  let k = 0;
  const alternate = [...lower].map((ch) => (/[a-z]/u.test(ch) && k++ % 2 === 0 ? ch.toUpperCase() : ch)).join('');
  return [...new Set([email, lower.toUpperCase(), `${capitalise(local)}@${capitalise(domain)}`, `${local}@${domain.toUpperCase()}`, alternate])];
}

const loginFailures: CheckDef = {
  id: 'IDENTITY-01',
  area,
  level: 'MUST',
  title: 'x-rate-limit-failures is per account, not per spelling: failed logins alternating the letter case of one address (Jane@Example.com, JANE@EXAMPLE.COM, …) spend ONE budget; after `limit` of them the right password in every spelling → 429 (SEC 7)',
  requires: [feature.extension('x-rate-limit-failures', 'login'), emailCaseInsensitive, failuresPerNormalised],
  // With one address (no header): its login windows, moved on by the harness clock.
  cost: { register: 1, login: 105 },
  skipsAlone: true, // neither a client-ip header nor the harness: skipped (see below)
  hashes: 101, // limit wrong passwords (unpaced, from addresses of its own) and the registration
  // A per-IP budget of wrong passwords at a time fills the deployment's hashing queue: a check
  // running alongside would meet its load shedding.
  exclusive: true,
  timeoutMs: 600_000,
  async run(ctx: CheckContext) {
    const login = ctx.contract.operation('login');
    const policy = login.rateLimitFailures;
    if (!policy) ctx.skip('login declares no x-rate-limit-failures');
    // `limit` wrong passwords exceed the per-IP login budget of one address (10 a minute): a
    // batch per address (client-ip header) or, with one address, per login window (the
    // harness clock moves on between batches, as RATE-04 does).
    const perIp = login.rateLimit?.key === 'ip' ? login.rateLimit : undefined;
    const header = !!ctx.options.clientIpHeader;
    if (!header && !ctx.harness) {
      ctx.skip(`needs --client-ip-header or the harness: ${policy.limit} failed logins exceed the per-IP login budget${perIp ? ` (${perIp.limit}/${perIp.window_seconds} s)` : ''} of one address`);
    }
    const batch = perIp?.limit ?? 10;
    const windows = Math.ceil(policy.limit / batch) + 1;
    if (!header && perIp && windows * (perIp.window_seconds + 1) >= policy.window_seconds) {
      ctx.skip(`with one address, ${windows} login windows of ${perIp.window_seconds} s outlast the ${policy.window_seconds} s failure window: needs --client-ip-header`);
    }
    const nextLoginWindow = async (): Promise<void> => {
      if (!header && perIp) await ctx.harness!.advanceClock(perIp.window_seconds + 1);
    };
    const account = await ctx.accounts.create();
    const spellings = caseSpellings(account.email);
    ctx.require(spellings.length >= 3, `the generated address ${account.email} has too few letters to spell it three ways`);
    await nextLoginWindow(); // one address: start on a fresh login window (the run used this one)
    const spent = new Map<string, number>();
    // Every spelling in turn; a per-IP budget at a time, concurrently, each batch from a new
    // address. A 503 (hashing load shed, documented) checked nothing: sent again, alone.
    const fail = async (i: number, client: Client): Promise<Exchange> => {
      const email = spellings[i % spellings.length]!;
      let ex = await client.call('login', { body: { email, password: `wrong-${ctx.accounts.newPassword()}` }, pace: false, expect: [401, 429, 503] });
      for (let tries = 0; ex.status === 503 && tries < 10; tries += 1) {
        ex = await ctx.newClient().call('login', { body: { email, password: `wrong-${ctx.accounts.newPassword()}` }, pace: false, expect: [401, 429, 503] });
      }
      if (ex.status === 401) spent.set(email, (spent.get(email) ?? 0) + 1);
      return ex;
    };
    for (let first = 0; first < policy.limit; first += batch) {
      if (first > 0) await nextLoginWindow();
      const client = ctx.newClient();
      const numbers = Array.from({ length: Math.min(batch, policy.limit - first) }, (_, k) => first + k);
      const answers = await Promise.all(numbers.map(async (i) => ({ i, ex: await fail(i, client) })));
      for (const { i, ex } of answers) {
        if (ex.status !== 401) ctx.fail(`failed login ${i + 1} of ${policy.limit} allowed per account (as ${spellings[i % spellings.length]}) answered ${ex.status}, expected 401`, ex);
      }
    }
    ctx.note(`${policy.limit} wrong passwords for one account: ${[...spent].map(([email, n]) => `${n} × ${email}`).join(', ')}`);
    await nextLoginWindow();
    // The budget is spent whatever the spelling: the right password, in each, is refused (a
    // 429 is not counted, so every spelling can be asked).
    for (const email of spellings) {
      const right = await ctx.newClient().call('login', { body: { email, password: account.password }, pace: false, expect: 429 });
      expectProblem(
        ctx,
        right,
        429,
        'rate_limited',
        `the right password as ${email} after ${policy.limit} failures spread over ${spellings.length} spellings of one address (the budget must be per normalised address, not per spelling)`,
      );
    }
    // Other checks never get this account (ctx.accounts.create), but a deployment's budget
    // store is cleaner without an hour-long lock: released through the harness when there is one.
    if (ctx.harness) ctx.defer(`release the failed-login budget of ${account.email}`, async () => void (await ctx.harness!.resetRateLimits({ email: account.email })));
  },
};

const resetRecipient: CheckDef = {
  id: 'IDENTITY-02',
  area,
  level: 'MUST',
  title: 'x-rate-limit-recipient is per address, not per spelling: reset requests in other letter cases of one address spend ONE budget; the next one, in yet another spelling, mails nothing and leaves the live token valid',
  needs: ['smtp'],
  requires: [feature.extension('x-rate-limit-recipient', 'requestPasswordReset'), emailCaseInsensitive, recipientPerNormalised],
  cost: { register: 1, 'password-reset-request': 4, 'password-reset-confirm': 1 },
  timeoutMs: 240_000,
  async run(ctx: CheckContext) {
    const limit = recipientLimit(ctx.contract); // documented: `requires` above
    const account = await ctx.accounts.create();
    const spellings = caseSpellings(account.email);
    ctx.require(spellings.length > limit, `${account.email} cannot be spelt ${limit + 1} ways`);
    // `limit` requests, each in another spelling: each mails (the budget holds `limit`).
    let last;
    for (let i = 0; i < limit; i += 1) last = await requestResetMail(ctx, spellings[i]!);
    // One more, in a spelling not used yet, from another client address (the per-IP budget, 3 a
    // minute, is not what is tested): a budget per spelling would mail it, issuing a new token
    // and voiding the one of the last mail.
    const over = await ctx.newClient().call('requestPasswordReset', { body: { email: spellings[limit]! } });
    ctx.expect(over.status === 200, `reset request #${limit + 1} (as ${spellings[limit]}): expected the same 200, got ${over.status}`, over);
    // The answer does not wait for the mail (nor for the token it would void): a mail beyond
    // the budget would reach the sink within moments. Up to MAIL_GRACE_MS for it — the proof
    // stays the live token below, which the confirm reads once this grace is over.
    const extra = await ctx.mail!.waitForMail(account.email, MAIL_GRACE_MS).catch(() => undefined);
    ctx.expect(!extra, `reset request #${limit + 1} as ${spellings[limit]} sent a reset mail beyond the ${limit} the address may receive per window (the budget is kept per spelling)`, over);
    const newPassword = ctx.accounts.newPassword();
    const confirmed = await confirmReset(ctx, last!.token, newPassword);
    ctx.expect(
      confirmed.status === 200,
      `after ${limit} reset mails for ${spellings.slice(0, limit).join(', ')}, request #${limit + 1} as ${spellings[limit]} voided the live token (confirm answered ${confirmed.status}): ` +
        'the reset-mail budget is kept per spelling, not per normalised address',
      confirmed,
    );
    if (confirmed.status === 200) account.password = newPassword;
  },
};

/** The budgets a client spends per address: every `key: ip` policy, each token policy's
 * (the requests without a valid credential) where the contract says they count per IP, and
 * the static budget outside the operations (`x-static-rate-limit`, 2.1.0). */
interface IpBudget {
  policy: RateLimitPolicy;
  what: string;
  /** One counted request from the client-ip `address` (`last`: the one that must be a 429
   * problem — a GET where the others may be HEADs, which carry no body). */
  send(address: string, expect: number[], last?: boolean): Promise<Exchange>;
}

const STATIC_PATH = '/openapi.json';

async function ipBudgets(ctx: CheckContext): Promise<IpBudget[]> {
  const header = ctx.options.clientIpHeader!;
  const budgets: IpBudget[] = [];
  const through = (policy: RateLimitPolicy, op: ContractOperation, token: string | undefined, what: string): IpBudget => {
    const params = Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/gu)].map((m) => [m[1]!, '00000000-0000-4000-8000-000000000000']));
    return { policy, what, send: (address, expect) => ctx.call(op.operationId, { ...driveOpts(op, token), params, headers: { [header]: address }, expect }) };
  };
  for (const policy of ctx.contract.policies()) {
    const op = driverOf(ctx, policy);
    if (policy.key === 'ip') budgets.push(through(policy, op, undefined, `"${policy.policy}" through ${op.operationId}`));
    if (policy.key === 'token' && anonymousCountsPerIp.present(ctx.contract)) {
      // An API key of the right shape that no deployment issued: 401, counted per client IP.
      budgets.push(through(policy, op, `qzk_${'B'.repeat(43)}`, `"${policy.policy}" through ${op.operationId} with an invalid credential`));
    }
  }
  const fixed = ctx.contract.document?.['x-static-rate-limit'] as Partial<RateLimitPolicy> | undefined;
  if (fixed && Number.isInteger(fixed.limit) && Number.isInteger(fixed.window_seconds) && (fixed.key ?? 'ip') === 'ip') {
    const send = (address: string, expect: number[], last = false) =>
      ctx.request(last ? 'GET' : 'HEAD', STATIC_PATH, { unvalidated: true, pace: false, headers: { [header]: address }, expect });
    // Only the reference server must serve it (HARDENING-09 says the same): probed from an
    // address of its own (documentation range 2001:db8::/32, a /64 no budget below uses).
    const probe = await send(`${randomSlash64()}::1`, []);
    if (probe.status === 404) ctx.note(`this deployment does not serve ${STATIC_PATH}: the static budget (x-static-rate-limit) is not driven`);
    else budgets.push({ policy: { policy: String(fixed.policy ?? 'static'), limit: fixed.limit!, window_seconds: fixed.window_seconds!, key: 'ip' }, what: `"${fixed.policy ?? 'static'}" (x-static-rate-limit) through HEAD ${STATIC_PATH}`, send });
  }
  return budgets;
}

/** `limit` calls from `addresses(0…limit-1)` that must be counted (not 429), then one more that must be 429. */
async function driveSpellings(ctx: CheckContext, budget: IpBudget, addresses: (i: number) => string, what: string): Promise<void> {
  const { policy } = budget;
  for (let i = 0; i < policy.limit; i += 1) {
    const ex = await budget.send(addresses(i), [429]);
    ctx.require(ex.status !== 429, `${budget.what}: call ${i + 1} of ${policy.limit} from ${addresses(i)} (${what}) was already refused with 429`, ex);
  }
  const over = await budget.send(addresses(policy.limit), [429], true);
  expectProblem(ctx, over, 429, 'rate_limited', `${budget.what}: call ${policy.limit + 1} within ${policy.window_seconds} s from ${addresses(policy.limit)} — ${what}, one client`);
}

const ipv4Spelt: CheckDef = {
  id: 'IDENTITY-03',
  area,
  level: 'MUST',
  title: 'Every per-IP budget (with the static one and that of requests without a valid credential) is per canonical address: one IPv4 client spelt as IPv4-mapped IPv6 (::ffff:a.b.c.d, ::FFFF:hex, 0:0:0:0:0:ffff:…) spends one budget (SEC 28)',
  needs: ['clientIp'],
  requires: [infoRules.clientIsItsPrefix],
  cost: {}, // addresses of its own, none of the run's
  hashes: 0, // {} bodies: 422 before any hash
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    const budgets = await ipBudgets(ctx);
    ctx.require(budgets.length > 0, 'the contract declares no per-IP budget');
    // 192.0.2.0/24 (TEST-NET-1): no other check uses it; one address per budget.
    const used = new Set<number>();
    for (const budget of budgets) {
      let d: number;
      do d = 1 + (randomBytes(1)[0]! % 254);
      while (used.has(d));
      used.add(d);
      const spellings = ipv4Spellings([192, 0, 2], d);
      await driveSpellings(ctx, budget, (i) => spellings[i % spellings.length]!, `${budget.policy.limit + 1} calls over ${spellings.length} spellings of 192.0.2.${d}`);
    }
    ctx.note(`${budgets.length} per-IP budgets, each spent over 5 spellings of one IPv4 address: ${budgets.map((b) => b.what).join('; ')}`);
    if (!anonymousCountsPerIp.present(ctx.contract)) ctx.note('requests without a valid credential: the contract does not say they count per IP — not driven');
  },
};

const ipv6Slash64: CheckDef = {
  id: 'IDENTITY-04',
  area,
  level: 'MUST',
  title: 'Every per-IP budget (with the static one and that of requests without a valid credential) is per /64: distinct IPv6 addresses of one /64 spend one budget, another /64 has its own (SEC 28)',
  needs: ['clientIp'],
  requires: [infoRules.clientIsItsPrefix],
  cost: {},
  hashes: 0,
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    const budgets = await ipBudgets(ctx);
    ctx.require(budgets.length > 0, 'the contract declares no per-IP budget');
    for (const budget of budgets) {
      const net = randomSlash64();
      await driveSpellings(ctx, budget, addressesOf(net), `${budget.policy.limit + 1} addresses of ${net}::/64`);
      // The /64 is the client, not the whole range: another /64 is not refused.
      const other = await budget.send(`${randomSlash64()}::1`, []);
      ctx.expect(other.status !== 429, `${budget.what}: a call from another /64 was refused too (429): the budget is not per client`, other);
    }
    ctx.note(`${budgets.length} per-IP budgets, each spent over ${budgets.length ? 'limit+1' : 0} addresses of one /64: ${budgets.map((b) => b.what).join('; ')}`);
  },
};

export const identityClassChecks: CheckDef[] = [loginFailures, resetRecipient, ipv4Spelt, ipv6Slash64];
