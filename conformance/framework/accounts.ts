import { randomBytes, randomInt } from 'node:crypto';
import type { Tracker } from './tracker.ts';
import type { Account, AccountFactory, CheckContext, Client, Contract, Exchange, Session } from './types.ts';

// Accounts the suite creates live in the run's namespace (`qz-conf-<runid>-<n>@example.com`)
// so that a run against a real deployment is recognisable and never touches anyone else's
// account; each has a strong random password.

const ALPHANUMERIC = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export function strongPassword(): string {
  let out = '';
  for (let i = 0; i < 22; i += 1) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  // A non-ASCII letter: passwords are any Unicode (SEC 1), and the suite uses that every time.
  return `${out}-ß${randomBytes(2).toString('hex')}`;
}

/** A wrong password of the same length as `password` (its last character changed): still
 * valid for the schema even when `password` is at the documented maximum length (an account
 * from the pool may have one), so the answer judges the password, not its length. */
export function wrongPassword(password: string): string {
  const chars = [...password];
  chars[chars.length - 1] = chars.at(-1) === 'x' ? 'y' : 'x';
  return chars.join('');
}

declare module './types.ts' {
  interface AccountFactory {
    /**
     * A second session of the shared account, for checks that send requests a broken
     * deployment might wrongly accept (a logout with a malformed body): they must not spoil
     * `shared()` for the checks that only read, yet need not each pay a login (a password hash,
     * and a tenth of the per-address login budget when the suite has one address). Logged in
     * again once the suite saw it end.
     */
    scratch(): Promise<Session>;
    /**
     * A second shared account (with its own session), for checks that need two users: an owner
     * whose objects the shared account must not reach. It too is only ever added to (projects,
     * keys), never changed. Created by the first check that asks.
     */
    other(): Promise<Session>;
    /**
     * An account of the check's own, with a live session. Registering costs a password hash
     * and a fifth of the per-address register budget, so an account a finished check gave back
     * (`giveBack`) is taken first — oldest first — with its session when that is still live
     * and young enough. `mails`: the reset mails the check will have sent to it (an account
     * only goes to a check that cannot spend its per-recipient budget). `giveBack`: offered to
     * later checks once this one ends, see `giveBack`.
     */
    own(opts?: OwnOptions): Promise<Session>;
    /** `own()` for a check that needs no session: a pooled account without one is not logged
     * in, and a fresh one is only registered. */
    ownAccount(opts?: OwnOptions): Promise<Account>;
    /**
     * Once the check has ended — only if it ended without a finding, and only if the account
     * has no TOTP secret (pending or enabled) and never had an API key, as the tracker saw it —
     * the account goes back to the pool for a later `own()`. A check that creates projects
     * must not give its account back (the tracker does not see them; KEYS-21 counts them).
     * Registered now, so it runs after the cleanups the check registers later (they disable
     * TOTP first). The session (or the one `login` answered) stays with it while it is live.
     * An account that used a TOTP step is retired instead when registering is cheap.
     */
    giveBack(account: Account | string, opts?: { session?: Session; login?: Exchange }): void;
  }
  interface CheckDef {
    /** The accounts the check takes with `own()` (the estimate replays the pool with it). */
    owns?: OwnOptions & { count?: number };
    /** Accounts the check registered itself and gives back (`giveBack`): with the session of
     * a login the check made, or without one. */
    givesBack?: Array<'session' | 'account'>;
  }
}

export interface OwnOptions {
  mails?: number;
  giveBack?: boolean;
  /** Declarations only (`CheckDef.owns`): `false` for `ownAccount()`. */
  session?: boolean;
}

/** An account a finished check gave back: how many reset mails it was sent, whether a live
 * session comes with it. */
export interface PooledAccount {
  mails: number;
  session?: unknown;
}

/** How long a check that takes a pooled session may run (TOTP checks wait for code steps). */
const TAKER_MS = 180_000;

/** What an address may be sent in reset mails per hour when the contract says nothing. */
const DEFAULT_RECIPIENT_LIMIT = 3;

/** The contract's per-recipient reset-mail budget (`x-rate-limit-recipient.limit`). */
export function recipientLimit(contract: Pick<Contract, 'document'> | undefined): number {
  const raw = contract?.document?.['paths']?.['/auth/password-reset/request']?.post?.['x-rate-limit-recipient'] as { limit?: unknown } | undefined;
  const limit = Number(raw?.limit);
  return Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_RECIPIENT_LIMIT;
}

/** Takes (removes and returns) the oldest pooled account that can still receive `mails` reset
 * mails — one with a session when `session` (no login then), else one without (a session is
 * kept for a check that needs one) — else any that can; shared by the pool and the run-time
 * estimate, so both pick alike. */
export function takeFrom<T extends PooledAccount>(pool: T[], mails: number, limit: number, session: boolean): T | undefined {
  const fits = (entry: T) => entry.mails + mails <= limit;
  let at = pool.findIndex((entry) => fits(entry) && !!entry.session === session);
  if (at < 0) at = pool.findIndex(fits);
  return at < 0 ? undefined : pool.splice(at, 1)[0];
}

interface GivenAccount extends PooledAccount {
  account: Account;
  session?: Session;
}

export class AccountPool {
  private counter = 0;
  private sharedSession: Promise<Session> | undefined;
  private scratchSession: Promise<Session> | undefined;
  private otherSession: Promise<Session> | undefined;
  /** Local time of each login the pool made (token → ms). */
  private readonly loggedInAt = new Map<string, number>();
  /** Accounts finished checks gave back, oldest first. */
  private readonly given: GivenAccount[] = [];
  /** Reset mails the checks that owned an account declared (its per-recipient budget). */
  private readonly mailsTo = new WeakMap<Account, number>();

  constructor(
    readonly runId: string,
    private readonly tracker: Tracker,
    /** Registering is cheap (a client-ip header: every check has register budgets of its own;
     * a harness: budgets are reset): an account that used a TOTP time step is retired rather
     * than handed on, since its next owner's TOTP codes would have to wait for fresh steps
     * (the deployment accepts each step once per user). */
    private readonly opts: { retireTotp?: boolean } = {},
  ) {}

  newEmail(): string {
    this.counter += 1;
    return `qz-conf-${this.runId}-${this.counter}@example.com`;
  }

  /** The factory a check sees: calls go through the check's own client and assertions. */
  factoryFor(
    ctx: Pick<CheckContext, 'client' | 'expectStatus' | 'require' | 'defer'> & { contract?: Pick<Contract, 'document'>; harness?: unknown },
    /** Whether the check has ended without a finding so far (`giveBack` asks at the end). */
    clean: () => boolean = () => false,
  ): AccountFactory {
    // A reused session older than x-recent-authentication (a run pacing itself for many
    // minutes) would meet 403 reauthentication_required on createApiKey: it is replaced by a
    // new login a minute before that.
    const maxAgeS = Number(ctx.contract?.document?.['x-recent-authentication']?.max_age_seconds);
    const maxAgeMs = Number.isFinite(maxAgeS) && maxAgeS > 0 ? Math.max(0, maxAgeS - 60) * 1000 : Number.POSITIVE_INFINITY;
    const usable = (session: Session, maxAge = maxAgeMs): boolean =>
      this.tracker.isLive(session.token) && Date.now() - (this.loggedInAt.get(session.token) ?? Date.now()) < maxAge;
    const create = async (opts: { password?: string; fullName?: string; companyName?: string; client?: Client } = {}): Promise<Account> => {
      const email = this.newEmail();
      const password = opts.password ?? strongPassword();
      const fullName = opts.fullName ?? `Conformance ${this.runId}`;
      const ex = await (opts.client ?? ctx.client).call('register', {
        body: { email, password, full_name: fullName, ...(opts.companyName ? { company_name: opts.companyName } : {}) },
      });
      ctx.expectStatus(ex, 201, `registering a fresh account ${email}`);
      const account: Account = { id: String(ex.body?.id), email, password, fullName };
      this.tracker.addAccount(account);
      return account;
    };
    const login = async (account: Account, opts: { totpCode?: string; client?: Client } = {}): Promise<Session> => {
      const ex = await (opts.client ?? ctx.client).call('login', {
        body: { email: account.email, password: account.password, ...(opts.totpCode ? { totp_code: opts.totpCode } : {}) },
      });
      ctx.expectStatus(ex, 200, `logging in as ${account.email}`);
      ctx.require(typeof ex.body?.access_token === 'string', 'login 200 without an access_token', ex);
      this.loggedInAt.set(ex.body.access_token as string, Date.now());
      return { account, token: ex.body.access_token as string, exchange: ex };
    };
    /** One account's session, made once; logged in again once the suite saw it end (a logout
     * the deployment accepted, a 401) or it grew older than x-recent-authentication. A failure
     * is retried by the next check rather than cached. */
    type Slot = 'sharedSession' | 'scratchSession' | 'otherSession';
    const reuse = async (slot: Slot, make: () => Promise<Session>): Promise<Session> => {
      if (!this[slot]) {
        this[slot] = make();
        this[slot].catch(() => (this[slot] = undefined));
      }
      const current = this[slot];
      const session = await current;
      if (usable(session)) return session;
      if (this[slot] === current) {
        this[slot] = login(session.account);
        this[slot].catch(() => (this[slot] = undefined));
      }
      return this[slot];
    };
    /** The oldest pooled account that can take the check's reset mails, else a fresh one. */
    const take = async (opts: OwnOptions, session: boolean): Promise<{ pooled?: GivenAccount; account: Account }> => {
      const pooled = takeFrom(this.given, opts.mails ?? 0, recipientLimit(ctx.contract), session);
      const account = pooled ? pooled.account : await create();
      this.mailsTo.set(account, (this.mailsTo.get(account) ?? 0) + (opts.mails ?? 0));
      return { ...(pooled ? { pooled } : {}), account };
    };
    const factory: AccountFactory = {
      newEmail: () => this.newEmail(),
      newPassword: strongPassword,
      create,
      login,
      shared: () => reuse('sharedSession', async () => login(await create())),
      scratch: () => reuse('scratchSession', async () => login((await factory.shared()).account)),
      other: () => reuse('otherSession', async () => login(await create())),
      own: async (opts = {}) => {
        const { pooled, account } = await take(opts, true);
        // A pooled session is handed on only while well inside x-recent-authentication: the
        // taker may need a recent login (disableTotp, createApiKey) until it ends. Never with a
        // harness: its clock moves (TOTP steps, locks) age sessions on the server, not here.
        const fresh = pooled?.session && !ctx.harness && usable(pooled.session, maxAgeMs - TAKER_MS);
        const session = fresh ? pooled.session! : await login(account);
        // A check that sends reset mails may have its sessions revoked in ways the tracker does
        // not see (a confirmed reset): the next check logs in again.
        if (opts.giveBack) factory.giveBack(account, opts.mails ? {} : { session });
        return session;
      },
      ownAccount: async (opts = {}) => {
        const { pooled, account } = await take(opts, false);
        if (opts.giveBack) factory.giveBack(account, pooled?.session && !opts.mails ? { session: pooled.session } : {});
        return account;
      },
      giveBack: (which, opts = {}) => {
        const account = typeof which === 'string' ? this.tracker.accounts.get(which.toLowerCase()) : which;
        if (!account) return;
        const token = opts.login?.status === 200 ? opts.login.body?.access_token : undefined;
        if (!opts.session && typeof token === 'string') opts = { ...opts, session: { account, token, exchange: opts.login! } };
        if (opts.session && !this.loggedInAt.has(opts.session.token)) this.loggedInAt.set(opts.session.token, Date.now());
        ctx.defer(`give ${account.email} back to the account pool`, async () => {
          // TOTP on (or a secret pending), or API keys (the quota checks fill an account's
          // quota), would change what the next check meets; a finding means the account may
          // not be in the state the check left it in.
          const email = account.email.toLowerCase();
          if (!clean() || this.tracker.totp.has(email) || [...this.tracker.apiKeys.values()].some((k) => k.email === email)) return;
          if (this.opts.retireTotp && this.tracker.totpStepUsed.has(email)) return;
          const session = opts.session && this.tracker.isLive(opts.session.token) ? opts.session : undefined;
          this.given.push({ account, mails: this.mailsTo.get(account) ?? 0, ...(session ? { session } : {}) });
        });
      },
    };
    return factory;
  }
}
