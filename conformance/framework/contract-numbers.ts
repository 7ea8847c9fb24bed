import type { ContractOperation, RateLimitPolicy } from './types.ts';

// Every number the contract states — a duration, a window, a count, a size — read from the
// document the suite checks against (issue 19, "both sides of every number"). The checks of
// conformance/checks/number-bounds.ts iterate over these lists, so a number a later contract
// adds (a new x-rate-limit on a new operation, another lock) gets its from-below check without
// new code. Numbers stated only in prose (token and reset lifetimes) are read from the
// sentence that states them; a contract that rewords it yields none and the check skips.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
type View = { document: Json; operations: ContractOperation[] };

/** The operation-level rate-limit extensions, each a `{policy, limit, window_seconds, key}`. */
export const RATE_LIMIT_EXTENSIONS = ['x-rate-limit', 'x-rate-limit-failures', 'x-rate-limit-recipient'] as const;
export type RateLimitExtension = (typeof RATE_LIMIT_EXTENSIONS)[number];

export interface PolicyNumber extends RateLimitPolicy {
  extension: RateLimitExtension;
  /** Every operation that states this policy (they share its budget). */
  operations: string[];
}

const rawOp = (c: View, op: ContractOperation): Json | undefined => c.document?.paths?.[op.path]?.[op.method.toLowerCase()] as Json | undefined;

const isPolicy = (v: unknown): v is RateLimitPolicy => {
  const p = v as Partial<RateLimitPolicy> | undefined;
  return !!p && typeof p.policy === 'string' && Number.isInteger(p.limit) && Number.isInteger(p.window_seconds) && ['ip', 'token', 'account'].includes(String(p.key));
};

/** Every policy of one rate-limit extension, once per policy name, in document order. */
export function policiesOf(c: View, extension: RateLimitExtension): PolicyNumber[] {
  const found = new Map<string, PolicyNumber>();
  for (const op of c.operations) {
    const value = rawOp(c, op)?.[extension];
    if (!isPolicy(value)) continue;
    const known = found.get(value.policy);
    if (known) known.operations.push(op.operationId);
    else found.set(value.policy, { ...value, extension, operations: [op.operationId] });
  }
  return [...found.values()];
}

/** `x-totp-lockout`: wrong codes in a row, and how long the lock lasts. */
export function totpLockout(c: Pick<View, 'document'>): { maxFailures: number; lockSeconds: number } | undefined {
  const v = c.document?.['x-totp-lockout'] as Json | undefined;
  const maxFailures = Number(v?.['max_failures']);
  const lockSeconds = Number(v?.['lock_seconds']);
  return Number.isInteger(maxFailures) && maxFailures >= 1 && Number.isInteger(lockSeconds) && lockSeconds >= 1 ? { maxFailures, lockSeconds } : undefined;
}

/** `x-recent-authentication.max_age_seconds`. */
export function recentAuthenticationSeconds(c: Pick<View, 'document'>): number | undefined {
  const v = Number(c.document?.['x-recent-authentication']?.['max_age_seconds']);
  return Number.isInteger(v) && v >= 1 ? v : undefined;
}

/** `x-request-body-limit-bytes`. */
export function bodyLimitBytes(c: Pick<View, 'document'>): number | undefined {
  const v = Number(c.document?.['x-request-body-limit-bytes']);
  return Number.isInteger(v) && v >= 1 ? v : undefined;
}

const text = (v: unknown): string => String(v ?? '').replace(/\s+/gu, ' ');
const opDescription = (c: View, operationId: string): string => {
  const op = c.operations.find((o) => o.operationId === operationId);
  return op ? text(rawOp(c, op)?.['description']) : '';
};

/** The session token lifetime login's description states ("valid for … (3600 seconds by default)"). */
export function sessionLifetimeSeconds(c: View): number | undefined {
  const m = /access-token lifetime \((\d+) seconds by default\)/iu.exec(opDescription(c, 'login'));
  return m ? Number(m[1]) : undefined;
}

/** The reset token lifetime requestPasswordReset's description states ("valid for 1 hour"). */
export function resetLifetimeSeconds(c: View): number | undefined {
  const m = /token valid for (\d+|an?|one) (hours?|minutes?)/iu.exec(opDescription(c, 'requestPasswordReset'));
  if (!m) return undefined;
  const n = /^\d+$/u.test(m[1]!) ? Number(m[1]) : 1;
  return n * (m[2]!.toLowerCase().startsWith('hour') ? 3600 : 60);
}

export interface ContractNumber {
  /** Where the contract states it: `x-rate-limit "login" (login)`, `x-totp-lockout.lock_seconds`. */
  name: string;
  value: number;
  unit: 'requests' | 'seconds' | 'failures' | 'bytes';
  /** The check that holds it from below (and the one that holds it from above). */
  fromBelow: string;
  fromAbove: string;
}

/** Every number the contract states, with the checks that hold it from both sides (the plan). */
export function contractNumbers(c: View): ContractNumber[] {
  const out: ContractNumber[] = [];
  for (const ext of RATE_LIMIT_EXTENSIONS) {
    for (const p of policiesOf(c, ext)) {
      const where = `${ext} "${p.policy}" (${p.operations.join(', ')})`;
      const above = { 'x-rate-limit': p.key === 'token' ? 'RATE-02' : 'RATE-01', 'x-rate-limit-failures': 'RATE-04', 'x-rate-limit-recipient': 'HARDENING-06' }[ext];
      out.push({ name: `${where} limit`, value: p.limit, unit: 'requests', fromBelow: above, fromAbove: above });
      const window = { 'x-rate-limit': 'RATE-40', 'x-rate-limit-failures': 'RATE-04', 'x-rate-limit-recipient': 'HARDENING-41' }[ext];
      out.push({ name: `${where} window_seconds`, value: p.window_seconds, unit: 'seconds', fromBelow: window, fromAbove: ext === 'x-rate-limit' ? (p.key === 'token' ? 'RATE-08' : 'RATE-05') : window });
    }
  }
  const lock = totpLockout(c);
  if (lock) {
    out.push({ name: 'x-totp-lockout.max_failures', value: lock.maxFailures, unit: 'failures', fromBelow: 'TOTP-06', fromAbove: 'TOTP-06' });
    out.push({ name: 'x-totp-lockout.lock_seconds', value: lock.lockSeconds, unit: 'seconds', fromBelow: 'TOTP-40', fromAbove: 'TOTP-06' });
  }
  const session = sessionLifetimeSeconds(c);
  if (session) out.push({ name: 'session token lifetime (login)', value: session, unit: 'seconds', fromBelow: 'SESSIONS-40', fromAbove: 'SESSIONS-04' });
  const reset = resetLifetimeSeconds(c);
  if (reset) out.push({ name: 'reset token lifetime (requestPasswordReset)', value: reset, unit: 'seconds', fromBelow: 'RESET-40', fromAbove: 'RESET-08' });
  const recent = recentAuthenticationSeconds(c);
  if (recent) out.push({ name: 'x-recent-authentication.max_age_seconds', value: recent, unit: 'seconds', fromBelow: 'HARDENING-40', fromAbove: 'HARDENING-05' });
  const body = bodyLimitBytes(c);
  if (body) out.push({ name: 'x-request-body-limit-bytes', value: body, unit: 'bytes', fromBelow: 'NEGATIVE-40', fromAbove: 'NEGATIVE-40' });
  return out;
}
