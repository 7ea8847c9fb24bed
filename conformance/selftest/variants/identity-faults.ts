import { AsyncLocalStorage } from 'node:async_hooks';
import type { BuiltApp } from '../../../src/app.ts';
import { budgetKey } from '../../../src/rate-limit/limiter.ts';
import { CLIENT_IP_HEADER } from '../reference-server.ts';

// Budgets that forget an identity's equivalence class, planted INSIDE the reference server
// (issue 19: server-side faults, not answers rewritten by a proxy). Each re-keys one kind of
// budget in the server's own rate limiter by the text the client sent — the e-mail as typed,
// the client-ip header as written — the way an implementation that never normalised would.
// The request being served is found through AsyncLocalStorage (the reset mail's budget is
// spent after the answer, in work the request started: the store follows it there).

export interface IdentityFault {
  name: string;
  /** What the broken deployment does wrong. */
  breaks: string;
  /** Checks that must FAIL (at least one), and the --only selection the run needs. */
  catches: string[];
  only: string[];
  plant(built: BuiltApp): void;
}

type Mw = BuiltApp['app']['middleware'][number];
type KoaCtx = Parameters<Mw>[0];
type Rekey = (policy: string, key: string, request: KoaCtx) => string;

/** Puts `rekey` between the server's code and its rate limiter, for every budget it spends. */
function rekeyBudgets(built: BuiltApp, rekey: Rekey): void {
  const requests = new AsyncLocalStorage<KoaCtx>();
  // Koa composes `app.middleware` when the server starts listening: first = outermost.
  built.app.middleware.unshift(((ctx, next) => requests.run(ctx, next)) as Mw);
  const limiter = built.deps.limiter;
  const wrap = (key: string, policy: string): string => {
    const request = requests.getStore();
    return request ? rekey(policy, key, request) : key;
  };
  const { consume, peek, refund } = { consume: limiter.consume.bind(limiter), peek: limiter.peek.bind(limiter), refund: limiter.refund.bind(limiter) };
  limiter.consume = (policy, key, limit, windowMs) => consume(policy, wrap(key, policy), limit, windowMs);
  limiter.peek = (policy, key, limit, windowMs) => peek(policy, wrap(key, policy), limit, windowMs);
  limiter.refund = (policy, key) => refund(policy, wrap(key, policy));
}

/** The `email` of the JSON body the request carried, as the client typed it. */
const typedEmail = (request: KoaCtx): string | undefined => {
  const email = (request.request as { body?: { email?: unknown } }).body?.email;
  return typeof email === 'string' ? email : undefined;
};

/** An account-keyed budget of `policy` keyed by the address as typed, not lower-cased. */
function accountAsTyped(policyOf: (built: BuiltApp) => string | undefined): (built: BuiltApp) => void {
  return (built) => {
    const target = policyOf(built);
    if (!target) throw new Error('the served contract has no such budget');
    rekeyBudgets(built, (policy, key, request) => {
      const email = typedEmail(request);
      return policy === target && key.startsWith('account|') && email !== undefined ? budgetKey('account', email) : key;
    });
  };
}

export const identityFaults: IdentityFault[] = [
  {
    name: 'login-failures-as-typed',
    breaks: 'the failed-login budget (x-rate-limit-failures) is keyed by the e-mail as typed: Jane@Example.com and jane@example.com each get 100 failures an hour',
    catches: ['IDENTITY-01'],
    only: ['IDENTITY-01', 'RATE-04', 'HARDENING-03'],
    plant: accountAsTyped((built) => built.deps.contract.operation('login').failureRateLimit?.policy),
  },
  {
    name: 'reset-recipient-as-typed',
    breaks: 'the reset-mail budget (x-rate-limit-recipient) is keyed by the address as typed: each spelling of one inbox gets 3 mails an hour, and each voids the live token',
    catches: ['IDENTITY-02'],
    only: ['IDENTITY-02', 'HARDENING-06'],
    plant: accountAsTyped((built) => (built.deps.contract.operation('requestPasswordReset').raw['x-rate-limit-recipient'] as { policy?: string } | undefined)?.policy),
  },
  {
    name: 'per-ip-raw-header',
    breaks:
      'every per-IP budget but login\'s is keyed by the client-ip header as written (login\'s stays canonical, so RATE-09/RATE-10 pass): ' +
      '::ffff:192.0.2.7 and 192.0.2.7 are two clients, and so is every address of one /64',
    catches: ['IDENTITY-03', 'IDENTITY-04'],
    only: ['IDENTITY-03', 'IDENTITY-04', 'RATE-09', 'RATE-10'],
    plant: (built) =>
      rekeyBudgets(built, (policy, key, request) => {
        const raw = request.get(CLIENT_IP_HEADER);
        return policy !== 'login' && key.startsWith('ip|') && raw ? budgetKey('ip', raw) : key;
      }),
  },
];
