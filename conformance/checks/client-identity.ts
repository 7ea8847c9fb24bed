import { infoRules } from '../framework/features.ts';
import { randomBytes } from 'node:crypto';
import type { CheckContext, CheckDef } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';

// Issue 17 defect 2: who "the client IP" of a per-IP budget is. One IPv6 subscriber holds at
// least a /64 (SLAAC, privacy addresses) and picks addresses in it freely: budgets per /128
// gave it 2^64 of them. And one address in several spellings was several budgets. Observable
// from outside with a trusted client-ip header: the check names the addresses itself, from
// documentation ranges no other check uses (2001:db8::/32, 203.0.113.0/24), and sends login
// with an empty body — counted (every routed request counts, DECISIONS §5) and answered 422
// before any password is hashed.

const area = 'rate-limits';

/** A random /64 of 2001:db8::/32 (RFC 3849): no other check, nor another run, uses it. */
export function randomSlash64(): string {
  const b = randomBytes(4);
  return `2001:db8:${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
}

/** `limit` logins that must be counted (422), then one that must be 429. */
async function driveLogin(ctx: CheckContext, addresses: (i: number) => string, what: string): Promise<void> {
  const header = ctx.options.clientIpHeader!;
  const limit = ctx.contract.operation('login').rateLimit!.limit;
  for (let i = 0; i < limit; i += 1) {
    const ex = await ctx.call('login', { body: {}, headers: { [header]: addresses(i) }, pace: false, expect: 429 });
    ctx.require(ex.status === 422, `login #${i + 1} of ${limit} from ${addresses(i)} (${what}): expected 422 (an empty body, counted), got ${ex.status}`, ex);
  }
  const over = await ctx.call('login', { body: {}, headers: { [header]: addresses(limit) }, pace: false, expect: 429 });
  expectProblem(ctx, over, 429, 'rate_limited', `login #${limit + 1} from ${addresses(limit)}: ${what} within one window`);
}

const ipv6Prefix: CheckDef = {
  id: 'RATE-09',
  requires: [infoRules.clientIsItsPrefix],
  area,
  level: 'MUST',
  title: 'Per-IP budgets: a client is its /64 — logins from distinct IPv6 addresses of one /64 share the per-IP login budget (SEC 28)',
  needs: ['clientIp'],
  cost: {}, // its own addresses, none of the run's
  hashes: 0,
  async run(ctx: CheckContext) {
    const login = ctx.contract.operation('login').rateLimit;
    if (!login || login.key !== 'ip') ctx.skip('login has no per-IP limit');
    const net = randomSlash64();
    // Random interface identifiers, as privacy addresses are (the last group keeps them distinct).
    await driveLogin(ctx, addressesOf(net), `${login.limit + 1} addresses of ${net}::/64`);
    // Another /64 is another client.
    const other = await ctx.call('login', { body: {}, headers: { [ctx.options.clientIpHeader!]: `${randomSlash64()}::1` }, pace: false, expect: 429 });
    ctx.expect(other.status === 422, `login from another /64 was refused too (${other.status}): the budget is not per client`, other);
  },
};

/** Distinct addresses of the /64 `net`: random interface identifiers, as privacy addresses
 * are (the last group keeps them distinct). Shared with IDENTITY-04 (identity-classes.ts). */
export function addressesOf(net: string): (i: number) => string {
  const hex = () => randomBytes(2).toString('hex');
  return (i) => `${net}:${hex()}:${hex()}:${hex()}:${(i + 1).toString(16)}`;
}

/** One IPv4 address `${prefix}.${d}` in the spellings SEC 28 says are the same client: as
 * is, IPv4-mapped (dotted), upper-case hex, zero-expanded, zero-padded upper-case. */
export function ipv4Spellings(prefix: [number, number, number], d: number): string[] {
  const v4 = `${prefix.join('.')}.${d}`;
  const high = ((prefix[0] << 8) | prefix[1]).toString(16);
  const low = ((prefix[2] << 8) | d).toString(16);
  return [v4, `::ffff:${v4}`, `::FFFF:${high.toUpperCase()}:${low.toUpperCase()}`, `0:0:0:0:0:ffff:${high}:${low}`, `0000:0000:0000:0000:0000:FFFF:${v4}`];
}

const ipv4Mapped: CheckDef = {
  id: 'RATE-10',
  requires: [infoRules.clientIsItsPrefix],
  area,
  level: 'MUST',
  title: 'Per-IP budgets: a client is its /64, one address one budget — IPv4-mapped IPv6 spellings (::ffff:a.b.c.d, ::FFFF:hex, 0:0:0:0:0:ffff:…) share the IPv4 address\'s budget (SEC 28)',
  needs: ['clientIp'],
  cost: {},
  hashes: 0,
  async run(ctx: CheckContext) {
    const login = ctx.contract.operation('login').rateLimit;
    if (!login || login.key !== 'ip') ctx.skip('login has no per-IP limit');
    // 203.0.113.0/24 (TEST-NET-3); .100–.249, clear of other checks' fixed forged addresses.
    const d = 100 + (randomBytes(1)[0]! % 150);
    const v4 = `203.0.113.${d}`;
    const spellings = ipv4Spellings([203, 0, 113], d);
    await driveLogin(ctx, (i) => spellings[i % spellings.length]!, `${login.limit + 1} spellings of ${v4}`);
  },
};

export const clientIdentityChecks: CheckDef[] = [ipv6Prefix, ipv4Mapped];
