import type { AppDeps } from '../deps.ts';
import { sendInBackground } from '../mail/create-mailer.ts';
import { findUserByEmail } from '../users/repository.ts';
import { buildResetMail } from './reset-mail.ts';
import { issueResetToken } from './reset-token-store.ts';

/**
 * Issues a token and mails the link when the address belongs to an active account; does
 * nothing otherwise. The caller answers the same 200 either way (no account enumeration),
 * and the mail is sent in the background so the answer's timing reveals nothing either.
 */
export async function startPasswordReset(deps: AppDeps, email: string): Promise<void> {
  const user = await findUserByEmail(deps.db, email);
  // A deactivated account could not log in with a new password anyway: send it nothing.
  if (user === undefined || !user.is_active) return;
  const token = await issueResetToken(deps.db, user.id, deps.clock.now());
  sendInBackground(deps.mailer, deps.log, buildResetMail(user.email, deps.config.publicUrl, token));
}
