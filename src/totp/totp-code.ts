import { verify } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;
const TOTP_CODE = /^[0-9]{6}$/;

export function timeStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * Checks a 6-digit code against `secret` at `nowMs`, one time step either side (RFC 6238 §5.2).
 * Returns the matched time step, or null. Steps ≤ `lastStep` are refused: each step is
 * accepted once per user (replay guard). Malformed input is a plain refusal, never a throw.
 */
export async function verifyTotpCode(
  secret: string,
  code: string,
  nowMs: number,
  lastStep: number | null,
): Promise<number | null> {
  if (!TOTP_CODE.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(nowMs / 1000),
      period: TOTP_PERIOD_SECONDS,
      digits: 6,
      algorithm: 'sha1',
      epochTolerance: TOTP_PERIOD_SECONDS,
      ...(lastStep === null ? {} : { afterTimeStep: lastStep }),
    });
    // otplib types the result as TOTP | HOTP; with the totp strategy it carries timeStep.
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}
