import type { AppDeps } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { revokeAllApiKeys } from '../api-keys/api-key-store.ts';
import { revokeAllSessions } from '../sessions/sessions.ts';
import { deleteBackupCodes, replaceBackupCodes } from './backup-code-store.ts';
import { checkSecondFactorCode } from './check-code.ts';
import { buildOtpauthUri } from './otpauth-uri.ts';
import { renderQrDataUrl } from './qr-code.ts';
import { encryptSecret } from './secret-box.ts';
import { loadTotpState, type TotpState } from './totp-state.ts';
import { generateTotpSecret } from './totp-secret.ts';

async function requireState(deps: AppDeps, userId: string): Promise<TotpState> {
  const state = await loadTotpState(deps.db, userId);
  // The security handler already proved the user exists; a vanished row is a revoked session.
  if (state === undefined) throw new Problem(401, 'invalid_token', 'The access token is no longer valid.');
  return state;
}

const alreadyEnabled = () => new Problem(409, 'totp_already_enabled', 'TOTP is already enabled for this account.');
const wrongCode = () => new Problem(422, 'invalid_totp_code', 'The code is wrong, expired or was already used.');

/** A new pending secret (replacing any earlier pending one); TOTP stays off until verified. */
export async function provisionTotpSecret(deps: AppDeps, userId: string): Promise<{ secret: string; uri: string; qr_code: string }> {
  const state = await requireState(deps, userId);
  if (state.enabled) throw alreadyEnabled();
  const secret = generateTotpSecret();
  const updated = await deps.db('users')
    .where({ id: userId, totp_enabled: false })
    .update({ totp_pending_secret_enc: encryptSecret(deps.keys.dataKey, secret, userId), updated_at: deps.clock.now() });
  if (updated !== 1) throw alreadyEnabled();
  const uri = buildOtpauthUri(secret, state.email);
  return { secret, uri, qr_code: await renderQrDataUrl(uri) };
}

/** What enabling TOTP ended (the `revoked` of the answer). */
export interface RevokedCredentials {
  sessions: number;
  api_keys: number;
}

/**
 * Proves the pending secret with a code, turns TOTP on, issues 5 new backup codes and ends
 * every other session (one that may have been opened by whoever knew only the password) and
 * every API key (one such session may have made it; SEC 34, issue 17 defect 9).
 */
export async function enableTotp(
  deps: AppDeps, userId: string, sessionId: string, code: string,
): Promise<{ backupCodes: string[]; revoked: RevokedCredentials }> {
  const state = await requireState(deps, userId);
  if (state.enabled) throw alreadyEnabled();
  const pending = state.pendingSecretEnc;
  if (pending === null) throw new Problem(409, 'totp_not_provisioned', 'Call POST /auth/totp/provision first.');
  if (!(await checkSecondFactorCode(deps, state, code, { secretEnc: pending, allowBackupCode: false }))) throw wrongCode();

  return deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    // Conditional on the verified secret still being the pending one (no re-provision raced us).
    const updated = await trx('users')
      .where({ id: userId, totp_enabled: false, totp_pending_secret_enc: pending })
      .update({ totp_enabled: true, totp_secret_enc: pending, totp_pending_secret_enc: null, updated_at: now });
    if (updated !== 1) throw new Problem(409, 'totp_not_provisioned', 'The provisioned secret changed meanwhile; provision again.');
    const backupCodes = await replaceBackupCodes(trx, deps.keys.dataKey, userId);
    const sessions = await revokeAllSessions(trx, userId, now, sessionId);
    const apiKeys = await revokeAllApiKeys(trx, userId, now);
    return { backupCodes, revoked: { sessions, api_keys: apiKeys } };
  });
}

/** Turns TOTP off with a code or a backup code; the secret and the backup codes are deleted. */
export async function disableTotpWithCode(deps: AppDeps, userId: string, code: string): Promise<void> {
  const state = await requireState(deps, userId);
  if (!state.enabled || state.secretEnc === null) throw new Problem(409, 'totp_not_enabled', 'TOTP is not enabled for this account.');
  if (!(await checkSecondFactorCode(deps, state, code, { secretEnc: state.secretEnc, allowBackupCode: true }))) throw wrongCode();
  await deps.db.transaction(async (trx) => {
    await trx('users').where({ id: userId }).update({
      totp_enabled: false, totp_secret_enc: null, totp_pending_secret_enc: null,
      totp_failed_count: 0, totp_locked_until: null, updated_at: deps.clock.now(),
    });
    await deleteBackupCodes(trx, userId);
  });
}
