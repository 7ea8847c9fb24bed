import type { CheckContext, CheckDef } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';

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
  async run(ctx: CheckContext) {
    const header = ctx.options.clientIpHeader!;
    const limit = ctx.contract.operation('login').rateLimit!.limit;
    await ctx.freshBudget('login');
    const body = { email: ctx.accounts.newEmail(), password: ctx.accounts.newPassword() };
    for (let i = 0; i < limit; i += 1) {
      const ex = await ctx.call('login', { body, headers: { [header]: `${forged(i)}, ${ctx.client.ip}` }, pace: false, expect: 429 });
      ctx.require(ex.status === 401, `login #${i + 1} of ${limit} within one window: expected 401, got ${ex.status}`, ex);
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

export const hardeningChecks: CheckDef[] = [forgedLeftMost, hugeClientIpHeader];
