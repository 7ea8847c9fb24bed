import { randomUUID } from 'node:crypto';
import { feature } from '../framework/features.ts';
import type { CheckContext, CheckDef, Client, ContractOperation, Exchange, RateLimitPolicy } from '../framework/types.ts';
import { parseRateLimit } from '../framework/pacer.ts';
import { expectProblem, retryAfterSeconds } from '../lib/problems.ts';

// Every x-rate-limit of the contract driven to 429 on purpose (SECURITY.md 7, 23, 24): the
// (limit+1)th call of a window is refused, Retry-After says when the window reopens (±2 s) and
// is honoured, budgets are kept per key. Limits, windows and keys come from the contract.

const area = 'rate-limits';
const TOLERANCE_S = 2;

type Policy = RateLimitPolicy & { operations: string[] };

/** The operation a policy is driven through: a GET when there is one (no side effect). */
export function driverOf(ctx: CheckContext, policy: Policy): ContractOperation {
  const ops = policy.operations.map((id) => ctx.contract.operation(id));
  return ops.find((op) => op.method === 'GET') ?? ops[0]!;
}

/** A request the budget counts without changing anything: `{}` to an operation with a body
 * (answered 422 — DECISIONS §5: every routed request counts, whatever the answer). */
export function driveOpts(op: ContractOperation, token?: string) {
  return { ...(op.requestSchema ? { body: {} } : {}), ...(token ? { token } : {}), pace: false as const, expect: 429 };
}

interface Drive {
  /** Local time just before the first counted call (the window opened after it). */
  openedAt: number;
  answers: Exchange[];
  limited: Exchange;
}

/**
 * `limit` calls that must not be 429, then one that must. Ends the check when it is not.
 * The window must be fresh: the suite waits for that (`freshBudget`), but it only knows its own
 * calls. When the first answer shows calls the suite did not make (a CI step polling /health
 * until the deployment is up, another client behind the same address: RateLimit r below
 * limit − 1, or a 429), the check waits for that window to reopen (the pacer learnt it from
 * the answer) and drives the next one from its first call, once.
 */
export async function drive(ctx: CheckContext, policy: RateLimitPolicy, op: ContractOperation, client: Client, token?: string): Promise<Drive> {
  let openedAt = Date.now();
  const answers: Exchange[] = [];
  let restarted = false;
  for (let i = 1; i <= policy.limit; i += 1) {
    const ex = await client.call(op.operationId, driveOpts(op, token));
    const remaining = parseRateLimit(ex.headers['ratelimit'], policy.policy)?.remaining;
    if (i === 1 && !restarted && (ex.status === 429 || (remaining !== undefined && remaining < policy.limit - 1))) {
      restarted = true;
      ctx.note(`"${policy.policy}": its window already held calls the suite did not make (first answer ${ex.status}, RateLimit ${JSON.stringify(ex.headers['ratelimit'] ?? null)}); driven from the next window`);
      await ctx.freshBudget(op.operationId, { client, ...(token ? { token } : {}) });
      openedAt = Date.now();
      i = 0;
      continue;
    }
    answers.push(ex);
    if (ex.status === 429) {
      ctx.fail(`"${policy.policy}": call ${i} of ${policy.limit} allowed per ${policy.window_seconds} s was already refused with 429`, ex);
    }
  }
  const limited = await client.call(op.operationId, driveOpts(op, token));
  if (limited.status !== 429) {
    ctx.fail(`"${policy.policy}": call ${policy.limit + 1} within ${policy.window_seconds} s answered ${limited.status}, expected 429 (the limit is not enforced)`, limited);
  }
  return { openedAt, answers, limited };
}

/** Retry-After and the RateLimit header agree with the window the suite opened (±2 s). */
function judge429(ctx: CheckContext, policy: RateLimitPolicy, d: Drive): void {
  const ex = d.limited;
  expectProblem(ctx, ex, 429, 'rate_limited', `"${policy.policy}" over its limit`);
  const retryAfter = retryAfterSeconds(ex);
  if (!ctx.expect(retryAfter !== undefined, `"${policy.policy}": Retry-After must be an integer ≥ 1, got ${JSON.stringify(ex.headers['retry-after'] ?? null)}`, ex)) return;
  const elapsed = (Date.now() - d.openedAt) / 1000;
  const expected = policy.window_seconds - elapsed;
  ctx.expect(
    Math.abs(retryAfter! - expected) <= TOLERANCE_S + 1,
    `"${policy.policy}": Retry-After ${retryAfter} s, but the window the suite opened ${elapsed.toFixed(1)} s ago reopens in ~${expected.toFixed(1)} s (window ${policy.window_seconds} s)`,
    ex,
  );
  const header = parseRateLimit(ex.headers['ratelimit'], policy.policy);
  if (ctx.expect(header !== undefined, `"${policy.policy}": RateLimit header missing or unparsable: ${JSON.stringify(ex.headers['ratelimit'] ?? null)}`, ex)) {
    ctx.expect(header!.remaining === 0, `"${policy.policy}": RateLimit r=${header!.remaining} on a 429, expected 0`, ex);
    ctx.expect(Math.abs(header!.resetSeconds - retryAfter!) <= TOLERANCE_S, `"${policy.policy}": RateLimit t=${header!.resetSeconds} disagrees with Retry-After ${retryAfter}`, ex);
  }
  // Every counted answer tells how much is left: r = limit - calls so far (IETF draft).
  const counted = d.answers.map((a, i) => ({ a, i, r: parseRateLimit(a.headers['ratelimit'], policy.policy)?.remaining }));
  const wrong = counted.find(({ i, r }) => r !== policy.limit - (i + 1));
  if (wrong) {
    ctx.expect(false, `"${policy.policy}": answer ${wrong.i + 1} of the window says RateLimit ${JSON.stringify(wrong.a.headers['ratelimit'] ?? null)}, expected r=${policy.limit - (wrong.i + 1)}`, wrong.a);
  }
  const policyHeader = ex.headers['ratelimit-policy'] ?? '';
  ctx.expect(
    policyHeader.includes(`"${policy.policy}"`) && policyHeader.includes(`q=${policy.limit}`) && policyHeader.includes(`w=${policy.window_seconds}`),
    `"${policy.policy}": RateLimit-Policy ${JSON.stringify(policyHeader)} does not state q=${policy.limit};w=${policy.window_seconds}`,
    ex,
  );
}

/** Operations sharing a policy share its budget (DECISIONS §5): once the driver is refused,
 * every other operation of the policy is refused for the same key too. Session-ending
 * operations go last, so a deployment that does not share the budget only hurts itself. */
async function expectShared(ctx: CheckContext, policy: Policy, driver: ContractOperation, client: Client, token?: string): Promise<void> {
  const others = policy.operations
    .map((id) => ctx.contract.operation(id))
    .filter((op) => op !== driver)
    .sort((a, b) => Number(a.operationId === 'logout') - Number(b.operationId === 'logout'));
  for (const op of others) {
    const params = Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/gu)].map((m) => [m[1]!, randomUUID()]));
    const ex = await client.call(op.operationId, { ...driveOpts(op, token), params });
    ctx.expect(ex.status === 429, `"${policy.policy}" is spent through ${driver.operationId}, but ${op.operationId} (same policy) answered ${ex.status}, expected 429`, ex);
  }
}

/** A client whose budget for `op` holds nothing yet. */
async function freshClient(ctx: CheckContext, op: ContractOperation): Promise<Client> {
  const client = ctx.newClient();
  await ctx.freshBudget(op.operationId, { client });
  return client;
}

const ipPolicies: CheckDef = {
  id: 'RATE-01',
  area,
  level: 'MUST',
  title: 'Every per-IP x-rate-limit refuses the (limit+1)th call of a window with 429, Retry-After (±2 s) and RateLimit headers (SEC 23)',
  // A whole fresh window of each (the (limit+1)th call is a 429, which no budget counts).
  cost: { register: 5, login: 10, 'password-reset-request': 3, 'password-reset-confirm': 10, health: 120 },
  freshWindows: true,
  early: 1, // with one address: first, when every window is fresh
  hashes: 0, // driven with {} bodies: 422 before any hash
  timeoutMs: 600_000,
  async run(ctx: CheckContext) {
    const policies = ctx.contract.policies().filter((p) => p.key === 'ip');
    ctx.require(policies.length > 0, 'the contract declares no per-IP rate limit');
    // Login's budget last: RATE-07 runs next and only needs it spent. When a window of another
    // policy held calls the suite did not make (`drive` waits for the next one), login's would
    // otherwise have reopened by then, and RATE-07 would spend a whole fresh login window.
    const loginPolicy = ctx.contract.operations.find((o) => o.operationId === 'login')?.rateLimit?.policy;
    const plan = policies
      .map((policy) => ({ policy, op: driverOf(ctx, policy), client: ctx.newClient() }))
      .sort((a, b) => Number(a.policy.policy === loginPolicy) - Number(b.policy.policy === loginPolicy));
    // Every window fresh at once: with one address each policy would otherwise wait for its
    // own window in turn (five minutes instead of one). Nothing else runs meanwhile (the check
    // runs alone), so the windows are still fresh when their turn comes a few seconds later.
    await Promise.all(plan.map(({ op, client }) => ctx.freshBudget(op.operationId, { client })));
    for (const { policy, op, client } of plan) {
      const d = await drive(ctx, policy, op, client);
      judge429(ctx, policy, d);
      await expectShared(ctx, policy, op, client);
      ctx.note(`"${policy.policy}" (${policy.limit}/${policy.window_seconds} s per IP) driven through ${op.operationId}: 429 on call ${policy.limit + 1}, Retry-After ${d.limited.headers['retry-after']}`);
    }
  },
};

const tokenPolicies: CheckDef = {
  id: 'RATE-02',
  area,
  level: 'MUST',
  title: 'Every per-token x-rate-limit refuses the (limit+1)th call of one credential with 429 on every operation sharing it, while another session of the same user keeps its own budget (SEC 23)',
  cost: { login: 1 },
  owns: {},
  // Its unpaced calls spend its own sessions' budgets, no per-address one (its login is paced).
  exclusive: false,
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    const policies = ctx.contract.policies().filter((p) => p.key === 'token');
    ctx.require(policies.length > 0, 'the contract declares no per-token rate limit');
    // Another session of the same user (any: it only needs a budget of its own), and per
    // policy a fresh one to drive: a token that already made calls would be refused early.
    const other = await ctx.accounts.own();
    for (const policy of policies) {
      const op = driverOf(ctx, policy);
      const session = await ctx.accounts.login(other.account);
      const d = await drive(ctx, policy, op, ctx.client, session.token);
      judge429(ctx, policy, d);
      await expectShared(ctx, policy, op, ctx.client, session.token);
      const sibling = await ctx.call(op.operationId, { ...driveOpts(op, other.token), expect: [] });
      ctx.expect(sibling.status !== 429, `"${policy.policy}": another session of the same user was refused too (${sibling.status}): the budget must be per token`, sibling);
    }
  },
};

const invalidTokenProbing: CheckDef = {
  id: 'RATE-03',
  area,
  level: 'SHOULD',
  title: 'Requests with invalid credentials are limited per client address under the token policy: 401 probing cannot go on forever',
  early: 3, // with one address: before any check has sent an invalid credential
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    const policy = ctx.contract.policies().find((p) => p.key === 'token');
    if (!policy) ctx.skip('the contract declares no per-token rate limit');
    const op = driverOf(ctx, policy);
    const client = await freshClient(ctx, op);
    const d = await drive(ctx, policy, op, client, `qzk_${'B'.repeat(43)}`);
    ctx.expect(d.answers.every((a) => a.status === 401), 'the probing calls should all be 401', d.answers.find((a) => a.status !== 401));
    judge429(ctx, policy, d);
  },
};

const accountFailures: CheckDef = {
  id: 'RATE-04',
  area,
  level: 'MUST',
  title: 'Failed logins are limited per account whatever the address: after the x-rate-limit-failures limit even the right password → 429; other accounts unaffected (SEC 7)',
  cost: { register: 1, login: 103 },
  requires: [feature.extension('x-rate-limit-failures', 'login')],
  owns: { session: false },
  skipsAlone: true, // neither a client-ip header nor the harness: skipped (see below)
  timeoutMs: 600_000,
  async run(ctx: CheckContext) {
    const login = ctx.contract.operation('login');
    const policy = login.rateLimitFailures;
    if (!policy) ctx.skip('login declares no x-rate-limit-failures');
    const perIp = login.rateLimit?.limit ?? Number.POSITIVE_INFINITY;
    if (!ctx.options.clientIpHeader && !ctx.harness) {
      ctx.skip(`needs --client-ip-header or the harness: ${policy.limit} failed logins exceed the per-IP login budget (${perIp}/${login.rateLimit?.window_seconds} s) of one address`);
    }
    const victim = await ctx.accounts.create();
    const bystander = await ctx.accounts.ownAccount();
    // One address only: start on a fresh login window (the run used this one before).
    if (!ctx.options.clientIpHeader) await ctx.harness!.advanceClock(login.rateLimit!.window_seconds + 1);
    // The failures go out a per-IP budget at a time, concurrently (each costs the deployment a
    // password hash: one after the other they took half of a whole run against scrypt N=2^15);
    // then a new address (header) or, with one address, a new IP window (harness clock).
    const batch = Number.isFinite(perIp) ? perIp : 10;
    // For the Retry-After lower bound: how much server time passed since the first failure.
    const firstFailureAt = Date.now();
    let advancedSeconds = 0;
    for (let first = 1; first <= policy.limit; first += batch) {
      if (first > 1 && !ctx.options.clientIpHeader) {
        await ctx.harness!.advanceClock(login.rateLimit!.window_seconds + 1);
        advancedSeconds += login.rateLimit!.window_seconds + 1;
      }
      const client = ctx.newClient();
      const numbers = Array.from({ length: Math.min(batch, policy.limit - first + 1) }, (_, k) => first + k);
      const answers = await Promise.all(
        numbers.map((i) => client.call('login', { body: { email: victim.email, password: `wrong-${ctx.accounts.newPassword()}` }, pace: false, expect: 429 }).then((ex) => ({ i, ex }))),
      );
      for (const { i, ex } of answers) if (ex.status !== 401) ctx.fail(`failed login ${i} of ${policy.limit} allowed per account answered ${ex.status}, expected 401`, ex);
    }
    if (!ctx.options.clientIpHeader) {
      await ctx.harness!.advanceClock(login.rateLimit!.window_seconds + 1);
      advancedSeconds += login.rateLimit!.window_seconds + 1;
    }
    const right = await ctx.newClient().call('login', { body: { email: victim.email, password: victim.password }, pace: false, expect: 429 });
    expectProblem(ctx, right, 429, 'rate_limited', `the right password after ${policy.limit} failures for the account`);
    const retryAfter = retryAfterSeconds(right);
    ctx.expect(retryAfter !== undefined && retryAfter <= policy.window_seconds, `Retry-After ${right.headers['retry-after']} should be within the ${policy.window_seconds} s window`, right);
    // Lower bound: the account's window opened at the first failure and lasts window_seconds; a
    // lock announced as ending much sooner (Retry-After: 1 on a 3600 s window) is wrong.
    const atLeast = policy.window_seconds - advancedSeconds - Math.ceil((Date.now() - firstFailureAt) / 1000) - 5;
    ctx.expect(retryAfter === undefined || retryAfter >= atLeast, `Retry-After ${retryAfter} s is shorter than what is left of the account's ${policy.window_seconds} s window (at least ${atLeast} s)`, right);
    const other = await ctx.newClient().call('login', { body: { email: bystander.email, password: bystander.password } });
    ctx.expect(other.status === 200, `another account must not be affected, got ${other.status}`, other);
    if (!ctx.harness) ctx.partial(`the account's window reopens after ${policy.window_seconds} s (needs the harness clock)`);
    if (ctx.harness) {
      // From below (issue 19): 5 s before the account's window ends the right password is
      // still refused; a window shorter than window_seconds would already have let it in.
      const ahead = policy.window_seconds - 5 - advancedSeconds - Math.ceil((Date.now() - firstFailureAt) / 1000);
      if (ahead >= 1) {
        await ctx.harness.advanceClock(ahead);
        const still = await ctx.newClient().call('login', { body: { email: victim.email, password: victim.password }, pace: false, expect: 429 });
        expectProblem(ctx, still, 429, 'rate_limited', `x-rate-limit-failures "${policy.policy}" (${policy.limit} per ${policy.window_seconds} s per account) on login: the right password ${policy.window_seconds - 5} s after the first failure (before window_seconds)`);
      }
      await ctx.harness.advanceClock(policy.window_seconds + 1);
      const later = await ctx.newClient().call('login', { body: { email: victim.email, password: victim.password } });
      ctx.expect(later.status === 200, `after the ${policy.window_seconds} s window the right password should work again, got ${later.status}`, later);
    }
  },
};

const retryAfterHonoured: CheckDef = {
  id: 'RATE-05',
  area,
  level: 'MUST',
  title: 'After waiting the Retry-After a 429 announced, the same call succeeds again (server clock moved through the harness, or real time) (SEC 23)',
  // With one address, the health budget (spent by RATE-01 just before: one call, then the
  // Retry-After, at most the whole window); else the smallest one.
  cost: {}, // its one call is the 429, which no budget counts
  waitsMs: 60_000,
  early: 4, // right after RATE-01: its wait is a minute in which every window is spent anyway
  // Without a harness it sleeps through the Retry-After, disturbing no other check.
  exclusive: (run) => run.harness,
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    const policies = ctx.contract.policies().filter((p) => p.key === 'ip');
    ctx.require(policies.length > 0, 'the contract declares no per-IP rate limit');
    // The policy cheapest to exhaust. With addresses of its own: the fewest calls. With one
    // address shared by the whole run: the largest budget, the one the other checks need least
    // (a small one such as password-reset-request, 3 a minute, is what a run waits for).
    const byLimit = [...policies].sort((a, b) => a.limit - b.limit);
    const policy = ctx.options.clientIpHeader ? byLimit[0]! : byLimit[byLimit.length - 1]!;
    const op = driverOf(ctx, policy);
    // Calls until the first 429 (RATE-01 judges where it comes): limit+1 from a fresh window;
    // the first one when the window is spent already (one address: RATE-01 just drove it), so
    // the check waits for no fresh window, only for the Retry-After it was told.
    const client = ctx.client;
    let limited: Exchange | undefined;
    for (let i = 0; i <= policy.limit && !limited; i += 1) {
      const ex = await client.call(op.operationId, driveOpts(op));
      if (ex.status === 429) limited = ex;
    }
    ctx.require(limited, `"${policy.policy}": ${policy.limit + 1} calls within ${policy.window_seconds} s got no 429`);
    const retryAfter = retryAfterSeconds(limited);
    ctx.require(retryAfter !== undefined, `no usable Retry-After on the 429: ${JSON.stringify(limited.headers['retry-after'] ?? null)}`, limited);
    if (ctx.harness) await ctx.harness.advanceClock(retryAfter);
    else await ctx.sleep(retryAfter * 1000 + 250, 'for the Retry-After the 429 gave');
    const again = await client.call(op.operationId, { ...driveOpts(op), expect: [] });
    ctx.expect(again.status !== 429, `"${policy.policy}": still 429 after waiting the announced Retry-After of ${retryAfter} s`, again);
    ctx.note(`"${policy.policy}": Retry-After ${retryAfter} s honoured ${ctx.harness ? 'by moving the server clock' : 'in real time'}`);
  },
};

const perAddress: CheckDef = {
  id: 'RATE-06',
  area,
  level: 'MUST',
  title: 'Per-IP budgets are kept per address and per policy: another client, and another policy of the same client, are not refused (SEC 23)',
  needs: ['clientIp'],
  cost: { login: 12, health: 1 },
  hashes: 0,
  async run(ctx: CheckContext) {
    const login = ctx.contract.operation('login');
    const policy = login.rateLimit;
    if (!policy || policy.key !== 'ip') ctx.skip('login has no per-IP limit');
    const exhausted = await freshClient(ctx, login);
    await drive(ctx, policy, login, exhausted);
    const other = await ctx.newClient().call('login', { ...driveOpts(login), expect: [] });
    ctx.expect(other.status !== 429, `a different client address was refused too (${other.status})`, other);
    const otherPolicy = ctx.contract.policies().find((p) => p.key === 'ip' && p.policy !== policy.policy);
    if (otherPolicy) {
      const op = driverOf(ctx, otherPolicy);
      const same = await exhausted.call(op.operationId, { ...driveOpts(op), expect: [] });
      ctx.expect(same.status !== 429, `the exhausted "${policy.policy}" budget also blocked "${otherPolicy.policy}" (${op.operationId} answered 429)`, same);
    }
  },
};

const spoofing: CheckDef = {
  id: 'RATE-07',
  area,
  level: 'MUST',
  title: 'A client cannot escape its budget with a forged X-Forwarded-For (only a configured trusted header counts) (SEC 24)',
  cost: {}, // with one address, RATE-01 spent the login budget just before (429s do not count)
  hashes: 0,
  early: 2,
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    if (ctx.options.clientIpHeader?.toLowerCase() === 'x-forwarded-for') {
      ctx.skip('the deployment was declared to trust X-Forwarded-For (--client-ip-header x-forwarded-for)');
    }
    const login = ctx.contract.operation('login');
    const policy = login.rateLimit;
    if (!policy || policy.key !== 'ip') ctx.skip('login has no per-IP limit');
    // RATE-01 judged the count of a fresh window; here the budget only has to be spent. With
    // one address it often still is (RATE-01 ran just before): no fresh window to wait for,
    // no ten more logins.
    const client = ctx.newClient();
    let spent: Exchange | undefined;
    for (let i = 0; i <= policy.limit && !spent; i += 1) {
      const ex = await client.call('login', driveOpts(login));
      if (ex.status === 429) spent = ex;
    }
    if (!spent) ctx.fail(`"${policy.policy}": ${policy.limit + 1} calls answered without a 429 (the limit is not enforced)`);
    const forged = await client.call('login', { ...driveOpts(login), headers: { 'x-forwarded-for': '203.0.113.77', 'x-real-ip': '203.0.113.78' } });
    ctx.expect(forged.status === 429, `with a forged X-Forwarded-For the exhausted client got ${forged.status}, expected 429`, forged);
  },
};

// RATE-07 right after RATE-01: with one address the login budget RATE-01 spent is still spent.
// With one address the runner starts RATE-01, RATE-07, RATE-03 and RATE-05 first (`early`).
export const rateLimitsChecks: CheckDef[] = [ipPolicies, spoofing, tokenPolicies, invalidTokenProbing, accountFailures, retryAfterHonoured, perAddress];
