import { createHash } from 'node:crypto';
import type { Contract, ContractOperation, RateLimitPolicy } from './types.ts';

// The budget pacer: the suite's own model of the deployment's fixed-window budgets
// (DECISIONS.md §5), built from every x-rate-limit in the contract. Before a paced call it
// waits until the call fits (or has the harness reset the budget); it counts every call; it
// never lets the suite meet a 429 it did not provoke against a server that keeps the
// documented limits. The model is pessimistic: a window is taken to close only a margin after
// the first counted request's ANSWER arrived (the server opened it somewhere before that).

const CLOSE_MARGIN_MS = 1200;
/** Longer waits fail the call instead, as do waits longer than the policy's own window. */
const MAX_WAIT_MS = 10 * 60_000;

interface Window {
  count: number;
  /** Local epoch ms when the window is sure to have closed on the server. */
  closesAt: number;
  /** True until the first counted request of this window has been answered. */
  provisional: boolean;
}

export interface PacerKeys {
  /** The client address (simulated) or `self`. */
  ip: string;
  /** The bearer credential, when the suite believes it valid (keys the token budgets). */
  token?: string;
  /** The account e-mail (login's body, or the bearer session's account), normalised by the caller. */
  email?: string;
}

export interface Reservation {
  slots: Array<{ id: string; policy: RateLimitPolicy }>;
}

export interface PacerOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Resets a budget through the harness instead of waiting (returns false when it cannot). */
  reset?: (policy: RateLimitPolicy, key: string) => Promise<boolean>;
  /** Waits longer than this go through `reset` when available. */
  resetAfterMs?: number;
  /** Waits longer than this (after trying `reset`) throw instead. */
  maxWaitMs?: number;
  log?: (line: string) => void;
}

export class Pacer {
  private readonly windows = new Map<string, Window>();
  /** Calls counted and sent but not answered yet, per budget id: a budget the harness clears
   * while they are on their way counts them again (the server may count them after the reset). */
  private readonly inFlight = new Map<string, number>();
  /** operationId → policies it was seen to spend without declaring them (learnt from 429s). */
  private readonly undeclared = new Map<string, Set<string>>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Total time spent waiting for budgets (reported). */
  waitedMs = 0;
  /** Time each check (by its abort signal) spent waiting for budgets. */
  private readonly waitedBy = new WeakMap<AbortSignal, number>();
  private readonly waitingSince = new WeakMap<AbortSignal, number>();

  constructor(
    private readonly contract: Contract,
    private readonly options: PacerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The budget ids a call to `op` spends up front (the failure budget is spent on the answer). */
  slotsFor(op: ContractOperation, keys: PacerKeys): Reservation['slots'] {
    const policy = op.rateLimit;
    if (!policy) return [];
    return [{ id: keyOf(policy, keys), policy }];
  }

  /**
   * Waits until every budget the call spends has room (pace), then counts it.
   * `pace: false` counts without waiting (a check provoking a 429 on purpose).
   */
  async acquire(op: ContractOperation, keys: PacerKeys, pace: boolean, signal?: AbortSignal): Promise<Reservation> {
    const slots = this.slotsFor(op, keys);
    const failures = op.rateLimitFailures;
    if (pace && failures && keys.email) await this.waitFor(failures, `${failures.policy}|account:${keys.email}`, 1, signal, false);
    // Budgets the operation spends without declaring them (a wrong current password counts
    // against login's per-account failure budget): waited for, never counted up front.
    if (pace) for (const policy of this.undeclaredFor(op, keys)) await this.waitFor(policy, keyOf(policy, keys), 1, signal, false);
    for (const slot of slots) {
      if (pace) await this.waitFor(slot.policy, slot.id, 1, signal, true);
      else this.count(slot.id, slot.policy, 1);
      this.inFlight.set(slot.id, (this.inFlight.get(slot.id) ?? 0) + 1);
    }
    return { slots };
  }

  /** Settles a reservation once the answer is in: fixes the window start, un-counts what the
   * server did not count (DECISIONS §3 order: 413/415/400 malformed_json come before the
   * limiter, 429 answers do not count), counts login failures per account, and syncs with the
   * server's own `RateLimit` header when it sent one. */
  settle(op: ContractOperation, keys: PacerKeys, reservation: Reservation, answer: { status: number; code?: string; headers: Record<string, string> }): void {
    // A TOTP lockout's 429 is not the limiter's: the call passed the limiter and was counted
    // (uncounting it let one login too many through when a locked account's login was among
    // the ten of a shared window). Counting it is the safe side where a deployment did not.
    const refusedByLimiter = answer.status === 429 && answer.code !== 'totp_locked';
    const uncounted =
      answer.status === 0 || refusedByLimiter || answer.status === 413 || answer.status === 415 || (answer.status === 400 && answer.code === 'malformed_json');
    for (const slot of reservation.slots) {
      const left = (this.inFlight.get(slot.id) ?? 1) - 1;
      if (left > 0) this.inFlight.set(slot.id, left);
      else this.inFlight.delete(slot.id);
      const w = this.windows.get(slot.id);
      if (!w) continue;
      if (uncounted) w.count = Math.max(0, w.count - 1);
      if (w.provisional) {
        w.provisional = false;
        w.closesAt = this.now() + slot.policy.window_seconds * 1000 + CLOSE_MARGIN_MS;
      }
      this.syncWithHeader(slot.policy, w, answer.headers);
    }
    const failures = op.rateLimitFailures;
    if (failures && keys.email && (answer.status === 401 || answer.status === 403)) {
      this.count(`${failures.policy}|account:${keys.email}`, failures, 1, true);
    }
    // A wrong current password elsewhere (changePassword, verify/disable TOTP, createApiKey)
    // spends the same per-account failure budget as a failed login (the contract says so).
    const accountFailures = this.accountFailurePolicy();
    if (!failures && accountFailures && keys.email && answer.status === 403 && answer.code === 'invalid_current_password') {
      this.count(keyOf(accountFailures, keys), accountFailures, 1, true);
    }
    // A TOTP lockout is a 429 too, but no rate-limit budget (DECISIONS §5): nothing to learn.
    if (answer.status === 429 && answer.code !== 'totp_locked') this.learnFrom429(op, keys, answer.headers);
  }

  /** The server clock moved forward (harness): windows that have run out there are closed. */
  clockAdvanced(seconds: number): void {
    // The margin only covers answer latency; a window the jump carried past its end is closed.
    for (const w of this.windows.values()) w.closesAt -= seconds * 1000 + CLOSE_MARGIN_MS;
    this.prune();
  }

  /** The server clock went back by `seconds`: windows opened meanwhile now last longer. */
  clockWentBack(seconds: number): void {
    for (const w of this.windows.values()) w.closesAt += seconds * 1000;
  }

  /** Forget a budget the harness cleared. */
  forget(predicate: (id: string) => boolean): void {
    for (const id of [...this.windows.keys()]) if (predicate(id)) this.cleared(id);
  }

  /** A window that ended (the harness reset it, or it ran out): the next one starts with the
   * calls still on their way (a concurrent check's call sent before may reach the server after). */
  private cleared(id: string): void {
    this.windows.delete(id);
    const pending = this.inFlight.get(id) ?? 0;
    // Provisional until one of them is answered (its answer dates the new window); until then
    // a waiter polls instead of resetting again.
    if (pending > 0) this.windows.set(id, { count: pending, closesAt: this.now(), provisional: true });
  }

  /** Waits until nothing is counted in the budget `op` spends for `keys`. */
  async waitFresh(op: ContractOperation, keys: PacerKeys, signal?: AbortSignal): Promise<void> {
    const [slot] = this.slotsFor(op, keys);
    if (!slot) return;
    await this.waitFor(slot.policy, slot.id, slot.policy.limit, signal, false);
  }

  /** How long the check owning `signal` has waited for budgets so far (its timeout does not
   * count that: with --jobs and one address, checks queue for the same windows). */
  waitedFor(signal: AbortSignal): number {
    const since = this.waitingSince.get(signal);
    return (this.waitedBy.get(signal) ?? 0) + (since === undefined ? 0 : this.now() - since);
  }

  /** Calls still available in a budget right now (for checks and tests). */
  remaining(policy: RateLimitPolicy, keys: PacerKeys): number {
    this.prune();
    return policy.limit - (this.windows.get(keyOf(policy, keys))?.count ?? 0);
  }

  /** Every policy of the contract, for the run-time estimate. */
  policies(): RateLimitPolicy[] {
    return this.contract.policies();
  }

  private count(id: string, policy: RateLimitPolicy, n: number, settled = false): void {
    this.prune();
    const w = this.windows.get(id);
    if (w) w.count += n;
    else
      this.windows.set(id, {
        count: n,
        closesAt: this.now() + policy.window_seconds * 1000 + CLOSE_MARGIN_MS + (settled ? 0 : 30_000),
        provisional: !settled,
      });
  }

  /** Returns once `need` more calls fit; with `take`, counts them in the same tick (parallel
   * calls cannot both squeeze into the last slot). */
  private async waitFor(policy: RateLimitPolicy, id: string, need: number, signal: AbortSignal | undefined, take: boolean): Promise<void> {
    for (;;) {
      this.prune();
      const w = this.windows.get(id);
      if (!w || w.count + need <= policy.limit) {
        if (take) this.count(id, policy, need);
        return;
      }
      if (signal?.aborted) throw new Error('aborted while waiting for a rate-limit budget');
      const waitMs = Math.max(50, w.closesAt - this.now());
      if (this.options.reset && waitMs > (this.options.resetAfterMs ?? 2000) && (await this.options.reset(policy, id))) {
        this.cleared(id);
        continue;
      }
      const bearable = Math.min(policy.window_seconds * 1000 + 5000, this.options.maxWaitMs ?? MAX_WAIT_MS);
      if (!w.provisional && waitMs > bearable) {
        // A budget spent for longer than any documented window (a 429 with a huge Retry-After):
        // fail the call now rather than stall the whole run.
        throw new Error(`the "${policy.policy}" budget (${shownKey(id)}) is spent for another ${Math.round(waitMs / 1000)} s: the deployment refuses more than the contract documents, or its clock moved`);
      }
      this.options.log?.(`  … waiting ${(waitMs / 1000).toFixed(1)} s for the "${policy.policy}" budget (${shownKey(id)})`);
      const started = this.now();
      if (signal) this.waitingSince.set(signal, started);
      await Promise.race([
        this.sleep(w.provisional ? Math.min(waitMs, 200) : waitMs),
        new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
      ]);
      this.waitedMs += this.now() - started;
      if (signal) {
        this.waitingSince.delete(signal);
        this.waitedBy.set(signal, (this.waitedBy.get(signal) ?? 0) + this.now() - started);
      }
    }
  }

  private syncWithHeader(policy: RateLimitPolicy, w: Window, headers: Record<string, string>): void {
    const parsed = parseRateLimit(headers['ratelimit'], policy.policy);
    if (!parsed) return;
    // Trust the server only where it is more pessimistic than the model.
    w.count = Math.max(w.count, policy.limit - parsed.remaining);
    w.closesAt = Math.max(w.closesAt, this.now() + parsed.resetSeconds * 1000 + CLOSE_MARGIN_MS);
  }

  /**
   * A 429 names its policy (`RateLimit-Policy`). It is attributed to THAT policy, wherever the
   * contract declares it, keyed as that policy is keyed — not to the operation's own budget: a
   * changePassword refused by login's per-account failure budget has not spent the token's
   * `authenticated` budget (marking that one spent for an hour stalled every later call of the
   * session). The operation is remembered as spending the undeclared policy, so its next paced
   * calls wait for it (`undeclaredFor`).
   */
  private learnFrom429(op: ContractOperation, keys: PacerKeys, headers: Record<string, string>): void {
    const retryAfter = Number(headers['retry-after']);
    const named = /"([^"]+)"/u.exec(headers['ratelimit-policy'] ?? '')?.[1];
    const own = [op.rateLimit, op.rateLimitFailures].filter((p): p is RateLimitPolicy => !!p);
    const policy = own.find((p) => p.policy === named) ?? this.contract.policies().find((p) => p.policy === named) ?? op.rateLimit;
    if (!policy) return;
    // An account budget needs the account: without one the answer cannot be placed.
    if (policy.key === 'account' && !keys.email) return;
    if (!own.includes(policy)) {
      const set = this.undeclared.get(op.operationId) ?? new Set<string>();
      this.undeclared.set(op.operationId, set.add(policy.policy));
    }
    const id = keyOf(policy, keys);
    const w = this.windows.get(id) ?? { count: 0, closesAt: 0, provisional: false };
    w.count = policy.limit;
    w.provisional = false;
    const fromHeader = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : policy.window_seconds * 1000;
    w.closesAt = Math.max(w.closesAt, this.now() + fromHeader + CLOSE_MARGIN_MS);
    this.windows.set(id, w);
  }

  /** Policies `op` spends without declaring them: the account failure budget for operations
   * taking a `current_password` (the contract's prose), and any policy a 429 of `op` named. */
  private undeclaredFor(op: ContractOperation, keys: PacerKeys): RateLimitPolicy[] {
    const names = new Set(this.undeclared.get(op.operationId) ?? []);
    const accountFailures = this.accountFailurePolicy();
    if (accountFailures && !op.rateLimitFailures && takesCurrentPassword(op)) names.add(accountFailures.policy);
    const out: RateLimitPolicy[] = [];
    for (const policy of this.contract.policies()) {
      if (!names.has(policy.policy) || policy.policy === op.rateLimit?.policy) continue;
      if (policy.key === 'account' && !keys.email) continue;
      out.push(policy);
    }
    return out;
  }

  /** The contract's per-account failure budget (login's `x-rate-limit-failures`), if any. */
  private accountFailurePolicy(): RateLimitPolicy | undefined {
    return this.contract.operations.find((o) => o.rateLimitFailures?.key === 'account')?.rateLimitFailures;
  }

  /** Closes the windows that have run out. A call still on its way when its window closes here
   * may have reached the server after the server's window rolled over: it starts the next one. */
  private prune(): void {
    const now = this.now();
    for (const [id, w] of [...this.windows]) if (!w.provisional && w.closesAt <= now) this.cleared(id);
  }
}

/** The key of a budget as a progress line or an error shows it: an address as is, a
 * credential only by a fingerprint (the console and CI logs never carry a live token). */
function shownKey(id: string): string {
  const key = id.slice(id.indexOf('|') + 1);
  if (!key.startsWith('token:')) return key;
  return `token sha256:${createHash('sha256').update(key.slice('token:'.length)).digest('hex').slice(0, 12)}`;
}

/** `policy|ip:1.2.3.4`, `policy|token:<token>`; a token policy without a valid credential is
 * keyed by the client address under the same policy name (DECISIONS §5). */
export function keyOf(policy: RateLimitPolicy, keys: PacerKeys): string {
  if (policy.key === 'token' && keys.token) return `${policy.policy}|token:${keys.token}`;
  if (policy.key === 'account') return `${policy.policy}|account:${keys.email ?? ''}`;
  return `${policy.policy}|ip:${keys.ip}`;
}

function takesCurrentPassword(op: ContractOperation): boolean {
  const props = (op.requestSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return !!props && 'current_password' in props;
}

/** `RateLimit: "login";r=3;t=42` (IETF draft structured field) → remaining and reset. */
export function parseRateLimit(value: string | undefined, policy: string): { remaining: number; resetSeconds: number } | undefined {
  if (!value) return undefined;
  for (const item of value.split(',')) {
    const name = /^\s*"([^"]+)"/u.exec(item)?.[1];
    if (name !== undefined && name !== policy) continue;
    const r = /;\s*r=(\d+)/u.exec(item)?.[1];
    const t = /;\s*t=(\d+)/u.exec(item)?.[1];
    if (r === undefined || t === undefined) continue;
    return { remaining: Number(r), resetSeconds: Number(t) };
  }
  return undefined;
}
