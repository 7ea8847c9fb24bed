import type { MailMessage } from '../deps.ts';
import { buildResetLink, RESET_TOKEN_TTL_MS } from './reset-token.ts';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The reset mail: the link (from PUBLIC_URL), how long it lives, and what to do if unasked. */
export function buildResetMail(to: string, publicUrl: string, token: string): MailMessage {
  const link = buildResetLink(publicUrl, token);
  const minutes = RESET_TOKEN_TTL_MS / 60_000;
  const text = [
    'Someone (hopefully you) asked to reset the password of your Quazzar Space account.',
    '',
    `Choose a new password here (the link works once, for ${minutes} minutes):`,
    link,
    '',
    'If you did not ask for this, ignore this mail: your password stays as it is.',
  ].join('\n');
  const html = `<p>Someone (hopefully you) asked to reset the password of your Quazzar Space account.</p>
<p><a href="${escapeHtml(link)}">Choose a new password</a> (the link works once, for ${minutes} minutes).</p>
<p>If you did not ask for this, ignore this mail: your password stays as it is.</p>`;
  return { to, subject: 'Reset your Quazzar Space password', text, html };
}
