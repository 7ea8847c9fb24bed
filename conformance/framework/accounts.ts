import { randomBytes, randomInt } from 'node:crypto';
import type { Tracker } from './tracker.ts';
import type { Account, AccountFactory, CheckContext, Client, Contract, Session } from './types.ts';

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
  }
}

export class AccountPool {
  private counter = 0;
  private sharedSession: Promise<Session> | undefined;
  private scratchSession: Promise<Session> | undefined;
  private otherSession: Promise<Session> | undefined;
  /** Local time of each login the pool made (token → ms). */
  private readonly loggedInAt = new Map<string, number>();

  constructor(
    readonly runId: string,
    private readonly tracker: Tracker,
  ) {}

  newEmail(): string {
    this.counter += 1;
    return `qz-conf-${this.runId}-${this.counter}@example.com`;
  }

  /** The factory a check sees: calls go through the check's own client and assertions. */
  factoryFor(ctx: Pick<CheckContext, 'client' | 'expectStatus' | 'require'> & { contract?: Pick<Contract, 'document'> }): AccountFactory {
    // A reused session older than x-recent-authentication (a run pacing itself for many
    // minutes) would meet 403 reauthentication_required on createApiKey: it is replaced by a
    // new login a minute before that.
    const maxAgeS = Number(ctx.contract?.document?.['x-recent-authentication']?.max_age_seconds);
    const maxAgeMs = Number.isFinite(maxAgeS) && maxAgeS > 0 ? Math.max(0, maxAgeS - 60) * 1000 : Number.POSITIVE_INFINITY;
    const usable = (session: Session): boolean =>
      this.tracker.isLive(session.token) && Date.now() - (this.loggedInAt.get(session.token) ?? Date.now()) < maxAgeMs;
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
    const factory: AccountFactory = {
      newEmail: () => this.newEmail(),
      newPassword: strongPassword,
      create,
      login,
      shared: () => reuse('sharedSession', async () => login(await create())),
      scratch: () => reuse('scratchSession', async () => login((await factory.shared()).account)),
      other: () => reuse('otherSession', async () => login(await create())),
    };
    return factory;
  }
}
