import type { ContractClient } from './client.ts';
import type { Tracker } from './tracker.ts';
import { disableTotpAnyVersion } from './features.ts';
import type { Contract, Exchange, Harness } from './types.ts';

// After the checks: undo through the public API what the run created — revoke its API keys,
// disable TOTP (with a backup code the suite was shown), log its sessions out — and list what
// stays behind (accounts cannot be deleted through the API).

export async function cleanUp(opts: {
  client: ContractClient;
  tracker: Tracker;
  harness?: Harness;
  runId: string;
  /** The chosen contract: disableTotp's body is built from it (current_password or not). */
  contract?: Pick<Contract, 'document' | 'operations'>;
}): Promise<string[]> {
  const { client, tracker } = opts;
  const left: string[] = [];

  /** Sessions whose own rate-limit budget a check spent (a 429 below): not used again. */
  const spentTokens = new Set<string>();
  /** A live session of the account, logging in (with a spare backup code under TOTP) if none. */
  const sessionOf = async (email: string): Promise<string | undefined> => {
    for (const c of tracker.credentials.values()) if (c.kind === 'session' && c.live && c.email === email && !spentTokens.has(c.token)) return c.token;
    const account = tracker.accounts.get(email);
    if (!account || tracker.deactivated.has(email)) return undefined;
    const totp = tracker.totp.get(email);
    const code = totp?.enabled ? totp.backupCodes.pop() : undefined;
    const ex = await client.call('login', { body: { email: account.email, password: account.password, ...(code ? { totp_code: code } : {}) } });
    return ex.status === 200 ? (ex.body?.access_token as string) : undefined;
  };
  /**
   * A call with a session of the account, unpaced (nothing else runs now): a session whose
   * budget a check spent (the shared session after many checks, RATE-02's) answers 429 and the
   * next one is tried, instead of the run waiting for its window.
   */
  const withSession = async (email: string, call: (token: string) => Promise<Exchange>): Promise<Exchange | undefined> => {
    for (;;) {
      const token = await sessionOf(email);
      if (!token) return undefined;
      const ex = await call(token);
      if (ex.status !== 429 || ex.body?.code !== 'rate_limited') return ex;
      spentTokens.add(token);
    }
  };

  for (const key of tracker.apiKeys.values()) {
    if (key.revoked) continue;
    const ex = await withSession(key.email, (token) => client.call('revokeApiKey', { params: { keyId: key.id }, token, pace: false, expect: [204, 404, 429] }));
    if (ex?.status !== 204 && ex?.status !== 404) left.push(`API key ${key.id} of ${key.email} (could not revoke${ex ? `: ${ex.status}` : ''})`);
  }
  for (const [email, totp] of tracker.totp) {
    if (!totp.enabled) continue;
    const code = totp.backupCodes.pop();
    const ex = code ? await withSession(email, (token) =>
          disableTotpAnyVersion((op, o) => client.call(op, o), opts.contract, { token, code, password: tracker.accounts.get(email)?.password, pace: false }),
        ) : undefined;
    if (ex?.status !== 200) left.push(`TOTP still enabled on ${email}${ex ? ` (disable answered ${ex.status}${ex.body?.code ? ` ${ex.body.code}` : ''})` : ' (no session or backup code left)'}`);
  }
  let loggedOut = 0;
  let spent = 0;
  for (const c of [...tracker.credentials.values()]) {
    if (c.kind !== 'session' || !c.live) continue;
    // Unpaced: a session whose own budget a check spent (RATE-02) would hold the run up for a
    // whole window; it is left to expire instead (nothing else runs now to meet a 429).
    const ex = await client.call('logout', { token: c.token, pace: false, expect: [200, 401, 429] });
    if (ex.status === 200) loggedOut += 1;
    if (ex.status === 429) spent += 1;
  }
  if (spent) left.push(`${spent} session(s) not logged out: their rate-limit budget was spent (they expire at their exp)`);
  if (opts.harness) {
    for (const email of [...tracker.deactivated]) {
      try {
        await opts.harness.activateAccount(email);
      } catch {
        left.push(`${email} still deactivated`);
      }
    }
    try {
      const clock = await opts.harness.getClock();
      if (clock.offset_seconds !== 0) await opts.harness.resetClock();
    } catch (error) {
      left.push(`harness clock not reset: ${(error as Error).message}`);
    }
  }
  if (tracker.accounts.size) {
    left.unshift(
      `${tracker.accounts.size} account(s) qz-conf-${opts.runId}-*@example.com (the API cannot delete accounts); ${loggedOut} session(s) logged out`,
    );
  }
  return left;
}
