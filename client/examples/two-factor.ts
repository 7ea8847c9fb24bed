import type { QuazzarClient } from '../index.ts';

/** Provision → the person scans the QR code → verify a code → the backup codes, shown once. */
export async function enableTwoFactor(
  qz: QuazzarClient,
  scan: (qrCodeDataUrl: string, secret: string) => Promise<string>,
  askForPassword: () => Promise<string>,
): Promise<string[]> {
  const enrolment = await qz.startTotpEnrolment();
  if (!enrolment.ok) throw new Error(enrolment.error.detail);
  let verified = await enrolment.verify(await scan(enrolment.data.qr_code, enrolment.data.secret));
  // 403 reauthentication_required: the login is older than the contract's x-recent-authentication window.
  if (!verified.ok && verified.reauthenticationRequired) verified = await verified.retryWithPassword(await askForPassword());
  if (!verified.ok) throw new Error(verified.error.detail);
  return verified.data.backup_codes;
}
