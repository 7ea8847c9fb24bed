import { randomBytes } from 'node:crypto';
import { totpAt } from '../../../conformance/lib/totp.ts';
import { call } from './server-process.ts';

export const PASSWORD = 'crash-test-password-123';

/** What the server acknowledged (2xx) during the load. */
export interface Acked {
  users: string[];
  logouts: string[];
  spentCodes: { email: string; code: string }[];
  revokedKeys: string[];
}

export interface LoadStats {
  sent: number;
  fiveXx: number;
  /** Requests that got no answer (connection refused/reset: the server was killed or stopping). */
  unanswered: number;
  errors: Map<string, number>;
}

let ipCounter = 0;
/** A distinct client address per request (TRUST_PROXY=true), so per-IP budgets never bind. */
export function nextIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export interface TotpUser {
  email: string;
  codes: string[];
}

/** Accounts with TOTP on and their five backup codes (spent during the load). */
export async function setUpTotpUsers(port: number, n: number): Promise<TotpUser[]> {
  const out: TotpUser[] = [];
  for (let i = 0; i < n; i++) {
    const email = `totp.${randomBytes(4).toString('hex')}@example.com`;
    await must(call(port, 'POST', '/auth/register', { ip: nextIp(), json: { email, password: PASSWORD, full_name: 'Totp User' } }), 201);
    const token = (await must(call(port, 'POST', '/auth/login', { ip: nextIp(), json: { email, password: PASSWORD } }), 200)).body.access_token;
    const secret = (await must(call(port, 'POST', '/auth/totp/provision', { token }), 200)).body.secret;
    const codes = (await must(call(port, 'POST', '/auth/totp/verify', { token, json: { code: totpAt(secret, Date.now()) } }), 200)).body.backup_codes;
    out.push({ email, codes });
  }
  return out;
}

async function must(p: Promise<{ status: number; body: any }>, status: number): Promise<{ status: number; body: any }> {
  const res = await p;
  if (res.status !== status) throw new Error(`setup: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/**
 * `workers` loops of writes (register; login + logout; login with a backup code; login +
 * create key + revoke key) until `shouldStop()`. Only 2xx answers are recorded as acknowledged.
 */
export async function runLoad(port: number, workers: number, totpUsers: TotpUser[], acked: Acked, stats: LoadStats, shouldStop: () => boolean): Promise<void> {
  const codes = totpUsers.flatMap((u) => u.codes.map((code) => ({ email: u.email, code })));
  const send = async (method: string, path: string, opts: Parameters<typeof call>[3]) => {
    stats.sent += 1;
    try {
      const res = await call(port, method, path, opts);
      if (res.status >= 500) stats.fiveXx += 1;
      return res;
    } catch (err) {
      stats.unanswered += 1;
      const code = (err as { code?: string }).code ?? (err as Error).message;
      stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);
      return undefined;
    }
  };
  const login = async (email: string) => (await send('POST', '/auth/login', { ip: nextIp(), json: { email, password: PASSWORD } }))?.body?.access_token as string | undefined;
  const worker = async (w: number) => {
    for (let i = w; !shouldStop(); i += workers) {
      const kind = (Math.floor(i / workers) + w) % 4; // every worker cycles through every kind
      await new Promise((r) => setImmediate(r)); // never a synchronous spin when a kind has nothing to do
      if (kind === 0) {
        const email = `crash.${randomBytes(6).toString('hex')}@example.com`;
        const res = await send('POST', '/auth/register', { ip: nextIp(), json: { email, password: PASSWORD, full_name: 'Crash Test' } });
        if (res?.status === 201) acked.users.push(email);
      } else if (kind === 1 && acked.users.length > 0) {
        const token = await login(acked.users[i % acked.users.length]!);
        if (token === undefined) continue;
        const res = await send('POST', '/auth/logout', { token });
        if (res?.status === 200) acked.logouts.push(token);
      } else if (kind === 2 && codes.length > 0) {
        const { email, code } = codes.pop()!;
        const res = await send('POST', '/auth/login', { ip: nextIp(), json: { email, password: PASSWORD, totp_code: code } });
        if (res?.status === 200) acked.spentCodes.push({ email, code });
      } else if (kind === 3 && acked.users.length > 0) {
        const token = await login(acked.users[(i * 7) % acked.users.length]!);
        if (token === undefined) continue;
        const created = await send('POST', '/users/me/api-keys', { token, json: { name: 'crash key' } });
        if (created?.status !== 201) continue;
        const res = await send('DELETE', `/users/me/api-keys/${created.body.id}`, { token });
        if (res?.status === 204) acked.revokedKeys.push(created.body.key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
}

export interface Verification {
  checked: number;
  missing: string[];
}

/** After a restart: every acknowledged write is there, every acknowledged revocation holds. */
export async function verifyAcked(port: number, acked: Acked, codeIsSpent: (email: string, code: string) => Promise<boolean>): Promise<Verification> {
  const missing: string[] = [];
  let checked = 0;
  for (const email of acked.users) {
    checked += 1;
    const res = await call(port, 'POST', '/auth/login', { ip: nextIp(), json: { email, password: PASSWORD } });
    if (res.status !== 200) missing.push(`registered ${email}: login ${res.status}`);
  }
  for (const token of acked.logouts) {
    checked += 1;
    const res = await call(port, 'GET', '/users/me', { token });
    if (res.status !== 401) missing.push(`logged-out session answered ${res.status}`);
  }
  for (const key of acked.revokedKeys) {
    checked += 1;
    const res = await call(port, 'GET', '/users/me', { token: key });
    if (res.status !== 401) missing.push(`revoked key answered ${res.status}`);
  }
  for (const { email, code } of acked.spentCodes) {
    checked += 1;
    if (!(await codeIsSpent(email, code))) missing.push(`spent backup code of ${email} is unspent again`);
  }
  return { checked, missing };
}
