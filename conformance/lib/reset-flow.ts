import type { CheckContext, Exchange } from '../framework/types.ts';
import { linksInMail } from './smtp-sink.ts';

const URL_SAFE = /^[A-Za-z0-9_-]+$/u;

/**
 * Bits a URL-safe token can carry at most: 4 per character when it is all hex digits, else 6
 * (base64url). SEC 18 asks ≥ 256 bits; the contract caps the token at 256 characters
 * (PasswordResetConfirm.token maxLength). The reference issues 43 base64url characters, but
 * that exact length is not a requirement.
 */
export function resetTokenBits(token: string): number {
  if (!URL_SAFE.test(token)) return 0;
  return token.length * (/^[0-9a-f]+$/iu.test(token) ? 4 : 6);
}
const MAIL_TIMEOUT_MS = 15_000;

export interface ResetMail {
  request: Exchange;
  link: URL;
  token: string;
}

/**
 * Asks for a reset of `email` and waits for the mail over SMTP; ends the check unless the
 * request answers 200 and a mail with a `?token=` link arrives.
 */
export async function requestResetMail(
  ctx: CheckContext,
  email: string,
  headers: Record<string, string> = {},
): Promise<ResetMail> {
  ctx.require(ctx.mail, 'no SMTP sink (declare needs: ["smtp"])');
  const request = await ctx.call('requestPasswordReset', { body: { email }, headers });
  ctx.expectStatus(request, 200, 'requestPasswordReset for a registered address');
  // When the request went out (the call may first have waited for its rate-limit window).
  const answeredAt = Date.now();
  const sentAt = answeredAt - request.durationMs;
  let mail;
  try {
    // A mail received before this request answers an earlier check's request on the same
    // account (the account pool hands accounts on): skipped, its token is void now.
    do mail = await ctx.mail.waitForMail(email, Math.max(1, answeredAt + MAIL_TIMEOUT_MS - Date.now()));
    while (mail.receivedAt < sentAt);
  } catch (error) {
    ctx.fail(`no reset mail reached the SMTP sink: ${(error as Error).message}`, request);
  }
  const links = linksInMail(mail).flatMap((raw) => {
    try {
      return [new URL(raw)];
    } catch {
      return [];
    }
  });
  const link = links.find((url) => url.searchParams.has('token'));
  ctx.require(link, `the reset mail holds no link with a token parameter (links: ${links.map(String).join(', ') || 'none'})`, request);
  const token = link.searchParams.get('token') ?? '';
  ctx.require(
    resetTokenBits(token) >= 256 && token.length <= 256,
    `the reset token must be URL-safe, carry at least 256 bits (SEC 18) and fit PasswordResetConfirm.token (≤ 256 characters): got ${token.length} characters (${resetTokenBits(token)} bits at most)`,
    request,
  );
  return { request, link, token };
}

export function confirmReset(ctx: CheckContext, token: string, newPassword: string, opts: { expect?: number } = {}): Promise<Exchange> {
  return ctx.call('confirmPasswordReset', {
    body: { token, new_password: newPassword },
    ...(opts.expect === undefined ? {} : { expect: opts.expect }),
  });
}
