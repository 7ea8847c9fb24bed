import fc from 'fast-check';
import { strongPassword } from '../framework/accounts.ts';
import type { Account, CheckContext, Contract, Exchange } from '../framework/types.ts';
import { confirmReset, requestResetMail } from '../lib/reset-flow.ts';
import { deviceFor } from '../lib/totp-flow.ts';
import type { TotpDevice } from '../lib/totp-device.ts';

// The model of ONE account's state for the stateful runs (fast-check model-based testing):
// which sessions are live, the TOTP state, backup codes left, reset tokens, projects, API keys
// and their scope, active or not. Every command sends its request(s) through the suite's
// contract-validating client, compares the answer with what the model says the contract
// requires, then moves the model. What the contract leaves open is "unknown" in the model and
// any documented answer is accepted for it (never a guess).

export type Life = 'live' | 'dead' | 'unknown';

export interface Model {
  active: boolean;
  sessions: Life[];
  totp: 'off' | 'pending' | 'enabled';
  backupLeft: number;
  backupSpent: number;
  /** Wrong TOTP/backup codes in a row (the contract locks at 5: the model stays below 3). */
  wrongInARow: number;
  resets: Life[];
  resetMails: number;
  projects: number;
  keys: Array<{ life: Life; scope: number[] }>;
  oldPasswords: number;
}

/** What the contract says the model must know about, read once per run. */
export interface ModelContract {
  /** The 200 answer of this operation carries a documented `revoked` field (what else the
   * operation revoked, e.g. API keys). Without it the model does not guess about keys. */
  documentsRevoked: (operationId: 'changePassword' | 'verifyTotp') => boolean;
  harness: boolean;
  mail: boolean;
  /** Documented per-recipient reset mails per window (`x-rate-limit-recipient`), default 3. */
  resetMailsPerWindow: number;
}

export interface StepRecord {
  label: string;
  exchangeIds: number[];
}

/** The real side: the secrets the model stands for, and the record of what was sent. */
export interface Real {
  ctx: CheckContext;
  account: Account;
  sessions: string[];
  devices: TotpDevice[];
  backupCodes: string[];
  spentBackupCodes: string[];
  resetTokens: string[];
  oldPasswords: string[];
  projects: string[];
  keys: Array<{ id: string; key: string }>;
  steps: StepRecord[];
  /** The ids of every exchange of this run so far (the context's own list). */
  exchangeIds(): number[];
  contract: ModelContract;
}

export class ModelMismatch extends Error {
  constructor(
    message: string,
    readonly exchange?: Exchange,
  ) {
    super(message);
  }
}

const pick = <T>(list: readonly T[], n: number): number => (list.length ? n % list.length : -1);

function expectAnswer(ex: Exchange, wanted: number | number[], why: string, code?: string): void {
  const statuses = ([] as number[]).concat(wanted);
  const got = `${ex.status || ex.error}${typeof ex.body?.code === 'string' ? ` ${ex.body.code}` : ''}`;
  if (!statuses.includes(ex.status)) throw new ModelMismatch(`${why}: expected ${statuses.join(' or ')}${code ? ` ${code}` : ''}, got ${got}`, ex);
  if (code && ex.status === statuses[0] && ex.body?.code !== code) throw new ModelMismatch(`${why}: expected ${statuses[0]} ${code}, got ${got}`, ex);
  // A revoked credential (session or key) is refused as such: 401 invalid_token.
  if (!code && ex.status === 401 && ex.request.headers['authorization'] && ex.body?.code !== 'invalid_token') {
    throw new ModelMismatch(`${why}: expected 401 invalid_token, got ${got}`, ex);
  }
  if (ex.violations.length) throw new ModelMismatch(`${why}: the answer breaks the contract: ${ex.violations.map((v) => v.message).join('; ')}`, ex);
}

const sessionExpect = (life: Life, ok: number): number[] => (life === 'live' ? [ok] : life === 'dead' ? [401] : [ok, 401]);

/** Every session other than `keep` is revoked (password change, TOTP enabled). */
function othersDead(m: Model, keep: number): void {
  m.sessions = m.sessions.map((s, i) => (i === keep ? s : 'dead'));
}

/**
 * Right after a step that revokes credentials, each one it claims to have revoked (or kept) is
 * tried once: the model's verdict is checked at once, so a sequence bug needs no later step
 * that happens to use the credential (shorter sequences, shrunk further).
 */
async function probeSessions(m: Model, r: Real, which: number[], after: string): Promise<void> {
  for (const i of which) {
    const life = m.sessions[i]!;
    const ex = await r.ctx.call('getCurrentUser', { token: r.sessions[i]! });
    expectAnswer(ex, sessionExpect(life, 200), `after ${after}: getCurrentUser with the ${life === 'dead' ? 'revoked' : life} session #${i}`);
    if (life === 'unknown') m.sessions[i] = ex.status === 401 ? 'dead' : 'live';
  }
}

async function probeKeys(m: Model, r: Real, which: number[], after: string): Promise<void> {
  for (const k of which) {
    const life = m.keys[k]!.life;
    const ex = await r.ctx.call('listProjects', { token: r.keys[k]!.key });
    expectAnswer(ex, sessionExpect(life, 200), `after ${after}: listProjects with the ${life === 'dead' ? 'revoked' : life} API key #${k}`);
    if (life === 'unknown') m.keys[k]!.life = ex.status === 401 ? 'dead' : 'live';
  }
}

const all = (list: readonly unknown[]): number[] => list.map((_, i) => i);

/**
 * The documented `revoked` answer of a credential change (`RevokedCredentials`: counts of the
 * other sessions and the API keys it revoked), checked against the model: the keys count is
 * the keys the model knows live (when it knows them all), the sessions count at least the other
 * sessions it knows live (an expired one may be counted too). Returns what does not match.
 */
export function revokedMismatch(answer: Record<string, unknown> | undefined, liveKeys: number | undefined, otherLiveSessions: number): string | undefined {
  const revoked = answer?.['revoked'] as Record<string, unknown> | undefined;
  if (!revoked || typeof revoked !== 'object') return 'no `revoked` in the answer although the contract documents it';
  const keys = revoked['api_keys'];
  const sessions = revoked['sessions'];
  if (liveKeys !== undefined && typeof keys === 'number' && keys !== liveKeys) return `revoked.api_keys is ${keys}, the model knows ${liveKeys} live API key(s)`;
  if (typeof sessions === 'number' && sessions < otherLiveSessions) return `revoked.sessions is ${sessions}, the model knows ${otherLiveSessions} other live session(s)`;
  return undefined;
}

/**
 * After a password change or a TOTP enable (other sessions already marked dead by the caller):
 * where the contract documents a `revoked` answer, every API key is revoked and the counts are
 * checked; where it does not, the model cannot tell and the keys become `unknown`.
 */
function afterCredentialChange(m: Model, r: Real, operationId: 'changePassword' | 'verifyTotp', ex: Exchange, otherLiveSessions: number): void {
  if (!r.contract.documentsRevoked(operationId)) {
    for (const k of m.keys) if (k.life !== 'dead') k.life = 'unknown';
    return;
  }
  const liveKeys = m.keys.some((k) => k.life === 'unknown') ? undefined : m.keys.filter((k) => k.life === 'live').length;
  const wrong = revokedMismatch(ex.body, liveKeys, otherLiveSessions);
  if (wrong) throw new ModelMismatch(`${operationId}: ${wrong}`, ex);
  for (const k of m.keys) k.life = 'dead';
}

const otherLive = (m: Model, keep: number): number => m.sessions.filter((s, j) => j !== keep && s === 'live').length;

abstract class Step implements fc.AsyncCommand<Model, Real> {
  abstract check(m: Readonly<Model>): boolean;
  protected abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
  async run(m: Model, r: Real): Promise<void> {
    const before = r.exchangeIds().length;
    const record: StepRecord = { label: this.toString(), exchangeIds: [] };
    r.steps.push(record);
    try {
      await this.act(m, r);
    } finally {
      record.exchangeIds = r.exchangeIds().slice(before);
    }
  }
}

type LoginKind = 'password' | 'totp' | 'backup' | 'spent-backup' | 'old-password';

class Login extends Step {
  constructor(readonly kind: LoginKind) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    switch (this.kind) {
      case 'password':
        return true;
      case 'totp':
        return m.totp === 'enabled';
      case 'backup':
        return m.totp === 'enabled' && m.backupLeft > 0 && m.active;
      case 'spent-backup':
        return m.totp === 'enabled' && m.backupSpent > 0 && m.active && m.wrongInARow < 3;
      case 'old-password':
        return m.oldPasswords > 0;
    }
  }
  toString(): string {
    return `login (${this.kind})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const password = this.kind === 'old-password' ? r.oldPasswords.at(-1)! : r.account.password;
    let code: string | undefined;
    if (this.kind === 'totp') code = (await r.devices.at(-1)!.nextCode()).code;
    if (this.kind === 'backup') code = r.backupCodes.at(-1)!;
    if (this.kind === 'spent-backup') code = r.spentBackupCodes.at(-1)!;
    const ex = await r.ctx.call('login', { body: { email: r.account.email, password, ...(code ? { totp_code: code } : {}) } });
    const on = m.totp === 'enabled';
    if (this.kind === 'old-password') return expectAnswer(ex, 401, 'login with a password replaced since', 'invalid_credentials');
    if (this.kind === 'spent-backup') {
      expectAnswer(ex, 401, 'login with a backup code already spent', 'invalid_totp_code');
      m.wrongInARow += 1;
      return;
    }
    if (this.kind === 'password' && on) {
      // Both apply to a deactivated account with TOTP on; the contract orders neither first.
      expectAnswer(ex, m.active ? 401 : [401, 403], 'login without a code, TOTP on', m.active ? 'totp_required' : undefined);
      return;
    }
    expectAnswer(ex, m.active ? 200 : 403, m.active ? `login (${this.kind}) of an active account` : 'login of a deactivated account', m.active ? undefined : 'account_deactivated');
    if (ex.status !== 200) return;
    if (typeof ex.body?.access_token !== 'string') throw new ModelMismatch('login answered 200 without an access_token', ex);
    r.sessions.push(ex.body.access_token);
    m.sessions.push('live');
    if (this.kind === 'backup') {
      r.spentBackupCodes.push(r.backupCodes.pop()!);
      m.backupLeft -= 1;
      m.backupSpent += 1;
    }
    if (code) m.wrongInARow = 0;
  }
}

abstract class SessionStep extends Step {
  constructor(readonly n: number) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return m.sessions.length > 0;
  }
  /** Mostly (n < 6) a session the model does not know dead; else any, dead ones included. */
  protected which(m: Model): number {
    const usable = m.sessions.flatMap((s, i) => (s === 'dead' ? [] : [i]));
    return this.n < 6 && usable.length ? usable[this.n % usable.length]! : pick(m.sessions, this.n);
  }
}

class Logout extends SessionStep {
  toString(): string {
    return `logout (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const ex = await r.ctx.call('logout', { token: r.sessions[i]! });
    expectAnswer(ex, sessionExpect(m.sessions[i]!, 200), `logout with a ${m.sessions[i]} session #${i}`);
    m.sessions[i] = 'dead';
    await probeSessions(m, r, [i], `logout of session #${i}`);
  }
}

class Me extends SessionStep {
  toString(): string {
    return `get profile (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const ex = await r.ctx.call('getCurrentUser', { token: r.sessions[i]! });
    expectAnswer(ex, sessionExpect(m.sessions[i]!, 200), `getCurrentUser with a ${m.sessions[i]} session #${i}`);
    if (ex.status === 200 && ex.body?.totp_enabled !== (m.totp === 'enabled')) {
      throw new ModelMismatch(`getCurrentUser says totp_enabled ${String(ex.body?.totp_enabled)}, the model says TOTP is ${m.totp}`, ex);
    }
  }
}

class ChangePassword extends SessionStep {
  toString(): string {
    return `change password (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const next = strongPassword();
    const ex = await r.ctx.call('changePassword', { token: r.sessions[i]!, body: { current_password: r.account.password, new_password: next } });
    expectAnswer(ex, sessionExpect(m.sessions[i]!, 200), `changePassword with a ${m.sessions[i]} session #${i}`);
    if (ex.status !== 200) return;
    r.oldPasswords.push(r.account.password);
    r.account.password = next;
    m.oldPasswords += 1;
    m.sessions[i] = 'live';
    const others = otherLive(m, i);
    othersDead(m, i);
    afterCredentialChange(m, r, 'changePassword', ex, others);
    await probeSessions(m, r, all(m.sessions), `a password change with session #${i}`);
    await probeKeys(m, r, all(m.keys), `a password change with session #${i}`);
    // Whether a password change voids a pending reset token is not documented.
    m.resets = m.resets.map((t) => (t === 'dead' ? 'dead' : 'unknown'));
  }
}

class ProvisionTotp extends SessionStep {
  toString(): string {
    return `provision TOTP (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const ex = await r.ctx.call('provisionTotp', { token: r.sessions[i]! });
    const life = m.sessions[i]!;
    if (life === 'live' && m.totp === 'enabled') return expectAnswer(ex, 409, 'provisionTotp while TOTP is on', 'totp_already_enabled');
    expectAnswer(ex, sessionExpect(life, 200), `provisionTotp with a ${life} session #${i} (TOTP ${m.totp})`);
    if (ex.status !== 200) return;
    if (typeof ex.body?.secret !== 'string') throw new ModelMismatch('provisionTotp answered 200 without a secret', ex);
    m.sessions[i] = 'live';
    m.totp = 'pending';
    const device = deviceFor(r.ctx, ex.body.secret, r.account);
    const last = r.devices.at(-1);
    r.devices.push(last ? device.continueAfter(last) : device);
  }
}

class VerifyTotp extends SessionStep {
  toString(): string {
    return `verify TOTP (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const life = m.sessions[i]!;
    // A right code only where the model expects a check of it (a refused code would count
    // towards the TOTP lockout): otherwise a code no step matches.
    const code = life !== 'dead' && m.totp === 'pending' ? (await r.devices.at(-1)!.nextCode()).code : '000000';
    const ex = await r.ctx.call('verifyTotp', { token: r.sessions[i]!, body: { code, current_password: r.account.password } });
    if (life === 'live' && m.totp === 'off') return expectAnswer(ex, 409, 'verifyTotp before any provision', 'totp_not_provisioned');
    if (life === 'live' && m.totp === 'enabled') return expectAnswer(ex, 409, 'verifyTotp while TOTP is on', 'totp_already_enabled');
    expectAnswer(ex, sessionExpect(life, 200), `verifyTotp with a ${life} session #${i} (TOTP ${m.totp})`);
    if (ex.status !== 200) return;
    const codes = ex.body?.backup_codes;
    if (!Array.isArray(codes) || codes.length === 0) throw new ModelMismatch('verifyTotp answered 200 without backup codes', ex);
    m.sessions[i] = 'live';
    m.totp = 'enabled';
    r.backupCodes = codes.map(String);
    r.spentBackupCodes = [];
    m.backupLeft = codes.length;
    m.backupSpent = 0;
    m.wrongInARow = 0;
    const others = otherLive(m, i);
    othersDead(m, i);
    afterCredentialChange(m, r, 'verifyTotp', ex, others);
    await probeSessions(m, r, all(m.sessions), `enabling TOTP with session #${i}`);
    await probeKeys(m, r, all(m.keys), `enabling TOTP with session #${i}`);
  }
}

class DisableTotp extends SessionStep {
  constructor(
    n: number,
    readonly withBackupCode: boolean,
  ) {
    super(n);
  }
  toString(): string {
    return `disable TOTP with a ${this.withBackupCode ? 'backup code' : 'TOTP code'} (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const life = m.sessions[i]!;
    const backup = this.withBackupCode && m.totp === 'enabled' && m.backupLeft > 0;
    const code = life !== 'dead' && m.totp === 'enabled' ? (backup ? r.backupCodes.at(-1)! : (await r.devices.at(-1)!.nextCode()).code) : '000000';
    const ex = await r.ctx.call('disableTotp', { token: r.sessions[i]!, body: { code, current_password: r.account.password } });
    if (life === 'live' && m.totp !== 'enabled') return expectAnswer(ex, 409, `disableTotp while TOTP is ${m.totp}`, 'totp_not_enabled');
    expectAnswer(ex, sessionExpect(life, 200), `disableTotp with a ${life} session #${i}`);
    if (ex.status !== 200) return;
    m.sessions[i] = 'live';
    m.totp = 'off';
    m.backupLeft = 0;
    m.backupSpent = 0;
    m.wrongInARow = 0;
    r.backupCodes = [];
    r.spentBackupCodes = [];
  }
}

class ResetRequest extends Step {
  check(m: Readonly<Model>): boolean {
    return m.active && m.resetMails < this.limit && this.mail;
  }
  constructor(
    private readonly mail: boolean,
    private readonly limit: number,
  ) {
    super();
  }
  toString(): string {
    return 'request a password reset';
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const { token } = await requestResetMail(r.ctx, r.account.email);
    m.resets = m.resets.map(() => 'dead'); // a newer request voids older tokens
    m.resets.push('live');
    m.resetMails += 1;
    r.resetTokens.push(token);
  }
}

class ResetConfirm extends Step {
  constructor(readonly n: number) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return m.resets.length > 0 && m.active;
  }
  toString(): string {
    return `confirm a password reset (token #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const t = pick(m.resets, this.n);
    const life = m.resets[t]!;
    const next = strongPassword();
    const ex = await confirmReset(r.ctx, r.resetTokens[t]!, next);
    expectAnswer(ex, life === 'live' ? 200 : life === 'dead' ? 400 : [200, 400], `confirmPasswordReset with a ${life} token #${t}`, life === 'dead' ? 'invalid_reset_token' : undefined);
    m.resets[t] = 'dead';
    if (ex.status !== 200) return;
    r.oldPasswords.push(r.account.password);
    r.account.password = next;
    m.oldPasswords += 1;
    m.resets = m.resets.map(() => 'dead');
    // Every session and every API key of the user is revoked (the contract says so).
    m.sessions = m.sessions.map(() => 'dead');
    for (const k of m.keys) k.life = 'dead';
    await probeSessions(m, r, all(m.sessions), `a password reset with token #${t}`);
    await probeKeys(m, r, all(m.keys), `a password reset with token #${t}`);
  }
}

class CreateProject extends SessionStep {
  override check(m: Readonly<Model>): boolean {
    return m.sessions.length > 0 && m.projects < 3;
  }
  toString(): string {
    return `create a project (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const ex = await r.ctx.call('createProject', { token: r.sessions[i]!, body: { name: `stateful ${r.projects.length + 1}` } });
    expectAnswer(ex, sessionExpect(m.sessions[i]!, 201), `createProject with a ${m.sessions[i]} session #${i}`);
    if (ex.status !== 201) return;
    m.sessions[i] = 'live';
    r.projects.push(String(ex.body?.id));
    m.projects += 1;
  }
}

class CreateKey extends SessionStep {
  constructor(
    n: number,
    readonly scopePick: number,
  ) {
    super(n);
  }
  override check(m: Readonly<Model>): boolean {
    return m.sessions.length > 0 && m.keys.length < 4;
  }
  toString(): string {
    return `create an API key (session #${this.n}, scope choice ${this.scopePick})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    // Scope: no project, or one of the projects so far.
    const p = this.scopePick % (m.projects + 1);
    const scope = p === 0 ? [] : [p - 1];
    const ex = await r.ctx.call('createApiKey', {
      token: r.sessions[i]!,
      body: { name: 'stateful key', project_ids: scope.map((s) => r.projects[s]!), current_password: r.account.password },
    });
    expectAnswer(ex, sessionExpect(m.sessions[i]!, 201), `createApiKey with a ${m.sessions[i]} session #${i}`);
    if (ex.status !== 201) return;
    m.sessions[i] = 'live';
    r.keys.push({ id: String(ex.body?.id), key: String(ex.body?.key) });
    m.keys.push({ life: 'live', scope });
  }
}

class UseKey extends Step {
  constructor(
    readonly n: number,
    readonly projectPick: number,
  ) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return m.keys.length > 0;
  }
  toString(): string {
    return `use API key #${this.n} (project choice ${this.projectPick})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const k = pick(m.keys, this.n);
    const key = m.keys[k]!;
    if (m.projects === 0) {
      const ex = await r.ctx.call('listProjects', { token: r.keys[k]!.key });
      return expectAnswer(ex, sessionExpect(key.life, 200), `listProjects with a ${key.life} API key #${k}`);
    }
    const p = this.projectPick % m.projects;
    const ex = await r.ctx.call('getProject', { token: r.keys[k]!.key, params: { projectId: r.projects[p]! } });
    const inScope = key.scope.includes(p);
    const ok = inScope ? 200 : 403;
    expectAnswer(ex, key.life === 'live' ? ok : key.life === 'dead' ? 401 : [ok, 401], `getProject #${p} with a ${key.life} API key #${k} (${inScope ? 'in' : 'out of'} its scope)`, !inScope && key.life === 'live' ? 'insufficient_scope' : undefined);
    if (key.life === 'unknown') key.life = ex.status === 401 ? 'dead' : 'live';
  }
}

class RevokeKey extends SessionStep {
  constructor(
    n: number,
    readonly k: number,
  ) {
    super(n);
  }
  override check(m: Readonly<Model>): boolean {
    return m.sessions.length > 0 && m.keys.length > 0;
  }
  toString(): string {
    return `revoke API key #${this.k} (session #${this.n})`;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const i = this.which(m);
    const k = pick(m.keys, this.k);
    const life = m.keys[k]!.life;
    const ex = await r.ctx.call('revokeApiKey', { token: r.sessions[i]!, params: { keyId: r.keys[k]!.id } });
    const session = m.sessions[i]!;
    if (session === 'dead') return expectAnswer(ex, 401, `revokeApiKey with a dead session #${i}`);
    const wanted = life === 'live' ? [204] : life === 'dead' ? [404] : [204, 404];
    expectAnswer(ex, session === 'live' ? wanted : [...wanted, 401], `revokeApiKey of a ${life} key #${k}`, life === 'dead' && session === 'live' ? 'api_key_not_found' : undefined);
    if (ex.status === 401) {
      m.sessions[i] = 'dead';
      return;
    }
    m.sessions[i] = 'live';
    m.keys[k]!.life = 'dead';
    await probeKeys(m, r, [k], `revoking API key #${k}`);
  }
}

class Deactivate extends Step {
  constructor(private readonly harness: boolean) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return this.harness && m.active;
  }
  toString(): string {
    return 'deactivate the account (harness)';
  }
  protected async act(m: Model, r: Real): Promise<void> {
    await r.ctx.harness!.deactivateAccount(r.account.email);
    m.active = false;
    // Its sessions and API keys are revoked at once, for good (harness contract).
    m.sessions = m.sessions.map(() => 'dead');
    for (const k of m.keys) k.life = 'dead';
    await probeSessions(m, r, all(m.sessions), 'deactivating the account');
    await probeKeys(m, r, all(m.keys), 'deactivating the account');
  }
}

class Activate extends Step {
  constructor(private readonly harness: boolean) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return this.harness && !m.active;
  }
  toString(): string {
    return 'activate the account again (harness)';
  }
  protected async act(m: Model, r: Real): Promise<void> {
    await r.ctx.harness!.activateAccount(r.account.email);
    m.active = true;
  }
}

/** The command arbitraries: every step of the lifecycle, with small index parameters that
 * pick among the sessions, keys, tokens and projects the run has so far (live or not). */
export function stepArbitraries(contract: ModelContract): Array<fc.Arbitrary<fc.AsyncCommand<Model, Real>>> {
  const n = fc.nat(7);
  const login = fc.constantFrom<LoginKind>('password', 'password', 'totp', 'backup', 'spent-backup', 'old-password').map((k) => new Login(k));
  return [
    login,
    login, // twice as likely: sequences keep a live session more often than not
    n.map((i) => new Logout(i)),
    n.map((i) => new Me(i)),
    n.map((i) => new ChangePassword(i)),
    n.map((i) => new ProvisionTotp(i)),
    n.map((i) => new VerifyTotp(i)),
    fc.tuple(n, fc.boolean()).map(([i, b]) => new DisableTotp(i, b)),
    fc.constant(null).map(() => new ResetRequest(contract.mail, contract.resetMailsPerWindow)),
    n.map((i) => new ResetConfirm(i)),
    n.map((i) => new CreateProject(i)),
    fc.tuple(n, n).map(([i, s]) => new CreateKey(i, s)),
    fc.tuple(n, n).map(([k, p]) => new UseKey(k, p)),
    fc.tuple(n, n).map(([i, k]) => new RevokeKey(i, k)),
    fc.constant(null).map(() => new Deactivate(contract.harness)),
    fc.constant(null).map(() => new Activate(contract.harness)),
  ];
}

/** A fresh account with one live session: the start of every sequence. */
export function initialModel(): Model {
  return {
    active: true,
    sessions: ['live'],
    totp: 'off',
    backupLeft: 0,
    backupSpent: 0,
    wrongInARow: 0,
    resets: [],
    resetMails: 0,
    projects: 0,
    keys: [],
    oldPasswords: 0,
  };
}

/** Whether `operationId`'s 200 answer documents a `revoked` property (directly, or in an
 * `allOf` part), resolving local `$ref`s. */
export function documentsRevokedField(contract: Contract, operationId: string): boolean {
  let op;
  try {
    op = contract.operation(operationId);
  } catch {
    return false;
  }
  const seen = new Set<unknown>();
  const has = (node: unknown): boolean => {
    const schema = contract.resolve(node) as Record<string, unknown> | undefined;
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return false;
    seen.add(schema);
    const props = schema['properties'] as Record<string, unknown> | undefined;
    if (props && 'revoked' in props) return true;
    return (['allOf', 'anyOf', 'oneOf'] as const).some((k) => Array.isArray(schema[k]) && (schema[k] as unknown[]).some(has));
  };
  return has(op.responses['200']?.schemas['application/json']);
}
