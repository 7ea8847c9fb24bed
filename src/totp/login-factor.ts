import { Problem } from '../errors/problem.ts';
import { checkSecondFactorCode, type CodeCheckDeps } from './check-code.ts';
import { loadTotpState } from './totp-state.ts';

const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="quazzar"' };

/**
 * Login's second factor, called after the password was found right and only for accounts
 * with TOTP on. Accepts a 6-digit code or an unused backup code; throws 401 `totp_required`
 * without one, 401 `invalid_totp_code` for a wrong or replayed one, 429 `totp_locked`.
 */
export async function verifyLoginSecondFactor(
  deps: CodeCheckDeps,
  user: { id: string },
  totpCode: string | undefined | null,
): Promise<void> {
  const state = await loadTotpState(deps.db, user.id);
  if (!state?.enabled || state.secretEnc === null) return;
  if (totpCode === undefined || totpCode === null || totpCode === '') {
    throw new Problem(401, 'totp_required', 'This account needs a TOTP code or a backup code in totp_code.', {
      headers: BEARER_CHALLENGE,
    });
  }
  const accepted = await checkSecondFactorCode(deps, state, totpCode, { secretEnc: state.secretEnc, allowBackupCode: true });
  if (!accepted) {
    throw new Problem(401, 'invalid_totp_code', 'The TOTP code or backup code is not valid.', { headers: BEARER_CHALLENGE });
  }
}
