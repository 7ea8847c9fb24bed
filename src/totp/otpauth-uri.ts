/** Issuer shown by authenticator apps; also the label prefix (Key URI Format). */
export const TOTP_ISSUER = 'Quazzar';

/**
 * `otpauth://totp/Quazzar:<email>?secret=…&issuer=Quazzar&algorithm=SHA1&digits=6&period=30`.
 * Built by hand rather than with otplib's generateURI, which drops the default parameters:
 * some authenticator apps mis-read a URI without them.
 */
export function buildOtpauthUri(secret: string, email: string): string {
  const label = `${encodeURIComponent(TOTP_ISSUER)}:${encodeURIComponent(email)}`;
  const query = new URLSearchParams({
    secret,
    issuer: TOTP_ISSUER,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
