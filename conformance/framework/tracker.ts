import type { Account, Exchange } from './types.ts';

// Watches every exchange of the run to know what the suite created on the deployment: which
// credentials are live (the pacer keys token budgets by them), which API keys, sessions and
// TOTP enrolments exist (the cleanup undoes them through the public API).

export interface TrackedCredential {
  token: string;
  kind: 'session' | 'api_key';
  email: string;
  live: boolean;
  /** JWT exp (epoch s) when the token is a JWT with one. */
  exp?: number;
}

export interface TrackedApiKey {
  id: string;
  email: string;
  /** The session that created it (may be dead by cleanup time). */
  createdWith: string;
  /** The key itself (to stop counting its budget once revoked). */
  secret: string;
  revoked: boolean;
}

export interface TrackedTotp {
  secret?: string;
  backupCodes: string[];
  enabled: boolean;
}

const lower = (email: unknown): string => String(email ?? '').toLowerCase();

export class Tracker {
  readonly accounts = new Map<string, Account>();
  readonly credentials = new Map<string, TrackedCredential>();
  readonly apiKeys = new Map<string, TrackedApiKey>();
  readonly totp = new Map<string, TrackedTotp>();
  /** Accounts on which the deployment accepted a TOTP code (a time step it will not accept
   * again for that user, even after TOTP was disabled). */
  readonly totpStepUsed = new Set<string>();
  /** Accounts deactivated through the harness (re-activated at cleanup). */
  readonly deactivated = new Set<string>();

  addAccount(account: Account): void {
    this.accounts.set(lower(account.email), account);
  }

  /** Whether the suite believes `token` is a live credential (keys the token budgets). */
  isLive(token: string | undefined): boolean {
    return !!token && this.credentials.get(token)?.live === true;
  }

  emailOf(token: string | undefined): string | undefined {
    return token ? this.credentials.get(token)?.email : undefined;
  }

  observe(ex: Exchange): void {
    const token = /^Bearer (.+)$/u.exec(ex.request.headers['authorization'] ?? '')?.[1];
    const body = ex.body as Record<string, unknown> | undefined;
    const sent = parse(ex.request.body);
    if (ex.status === 401 && token) this.kill(token);
    const email = this.emailOf(token);
    switch (`${ex.operationId ?? ''} ${ex.status}`) {
      case 'register 201':
        if (sent && !this.accounts.has(lower(sent['email']))) {
          this.addAccount({ id: String(body?.['id']), email: String(sent['email']), password: String(sent['password']), fullName: String(sent['full_name']) });
        }
        break;
      case 'login 200': {
        const user = body?.['user'] as Record<string, unknown> | undefined;
        if (typeof body?.['access_token'] === 'string') {
          const exp = expOf(body['access_token']);
          this.credentials.set(body['access_token'], {
            token: body['access_token'],
            kind: 'session',
            email: lower(user?.['email'] ?? sent?.['email']),
            live: true,
            ...(exp !== undefined ? { exp } : {}),
          });
        }
        break;
      }
      case 'logout 200':
        if (token) this.kill(token);
        break;
      case 'createApiKey 201':
        if (typeof body?.['key'] === 'string' && email) {
          this.credentials.set(body['key'], { token: body['key'], kind: 'api_key', email, live: true });
          this.apiKeys.set(String(body['id']), { id: String(body['id']), email, createdWith: token!, secret: body['key'], revoked: false });
        }
        break;
      case 'revokeApiKey 204': {
        const id = decodeURIComponent(ex.request.url.split('/').pop() ?? '');
        const key = this.apiKeys.get(id);
        if (key) {
          key.revoked = true;
          this.kill(key.secret);
        }
        break;
      }
      case 'provisionTotp 200':
        if (email) this.totpOf(email).secret = String(body?.['secret']);
        break;
      case 'verifyTotp 200':
        if (email) {
          const t = this.totpOf(email);
          t.enabled = true;
          this.totpStepUsed.add(email);
          t.backupCodes = Array.isArray(body?.['backup_codes']) ? (body['backup_codes'] as string[]) : [];
          this.killOthers(email, token);
          if (body?.['revoked'] !== undefined) this.revokeKeys(email);
        }
        break;
      case 'disableTotp 200':
        if (email) this.totp.delete(email);
        break;
      case 'changePassword 200':
        if (email) {
          const account = this.accounts.get(email);
          if (account && typeof sent?.['new_password'] === 'string') account.password = sent['new_password'];
          this.killOthers(email, token);
          if (body?.['revoked'] !== undefined) this.revokeKeys(email);
        }
        break;
      default:
        break;
    }
  }

  /** The server clock moved (harness): sessions whose exp has passed there are dead. */
  expireBefore(serverNowSeconds: number): void {
    for (const c of this.credentials.values()) if (c.exp !== undefined && c.exp <= serverNowSeconds) c.live = false;
  }

  private totpOf(email: string): TrackedTotp {
    let t = this.totp.get(email);
    if (!t) this.totp.set(email, (t = { backupCodes: [], enabled: false }));
    return t;
  }

  private kill(token: string): void {
    const c = this.credentials.get(token);
    if (c) c.live = false;
  }

  /** A password change or TOTP enrolment that answers `revoked` ended every API key (SEC 34). */
  private revokeKeys(email: string): void {
    for (const key of this.apiKeys.values()) {
      if (key.email !== email) continue;
      key.revoked = true;
      this.kill(key.secret);
    }
  }

  /** Password change and TOTP enrolment revoke every other session of the user (§6). */
  private killOthers(email: string, keep: string | undefined): void {
    for (const c of this.credentials.values()) if (c.kind === 'session' && c.email === email && c.token !== keep) c.live = false;
  }
}

function expOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
