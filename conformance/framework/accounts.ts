import { randomBytes, randomInt } from 'node:crypto';
import type { Tracker } from './tracker.ts';
import type { Account, AccountFactory, CheckContext, Client, Session } from './types.ts';

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

  constructor(
    readonly runId: string,
    private readonly tracker: Tracker,
  ) {}

  newEmail(): string {
    this.counter += 1;
    return `qz-conf-${this.runId}-${this.counter}@example.com`;
  }

  /** The factory a check sees: calls go through the check's own client and assertions. */
  factoryFor(ctx: Pick<CheckContext, 'client' | 'expectStatus' | 'require'>): AccountFactory {
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
      return { account, token: ex.body.access_token as string, exchange: ex };
    };
    /** One account's session, made once and logged in again once the suite saw it end. */
    const reuse = async (slot: 'otherSession', make: () => Promise<Session>): Promise<Session> => {
      if (!this[slot]) {
        this[slot] = make();
        this[slot].catch(() => (this[slot] = undefined));
      }
      const current = this[slot];
      const session = await current;
      if (this.tracker.isLive(session.token)) return session;
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
      shared: () => {
        // Created once per run, by the first check that asks; a failure there is retried by
        // the next check rather than cached.
        if (!this.sharedSession) {
          this.sharedSession = create().then((account) => login(account));
          this.sharedSession.catch(() => (this.sharedSession = undefined));
        }
        return this.sharedSession.then((session) => {
          if (!this.tracker.isLive(session.token)) {
            this.sharedSession = login(session.account);
            return this.sharedSession;
          }
          return session;
        });
      },
      scratch: async () => {
        const { account } = await factory.shared();
        if (!this.scratchSession) {
          this.scratchSession = login(account);
          this.scratchSession.catch(() => (this.scratchSession = undefined));
        }
        const current = this.scratchSession;
        const session = await current;
        if (this.tracker.isLive(session.token)) return session;
        // Ended (a logout the deployment accepted, a 401): one new login, shared by whoever asks.
        if (this.scratchSession === current) {
          this.scratchSession = login(account);
          this.scratchSession.catch(() => (this.scratchSession = undefined));
        }
        return this.scratchSession;
      },
      other: () => reuse('otherSession', async () => login(await create())),
    };
    return factory;
  }
}
