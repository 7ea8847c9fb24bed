import { createQuazzarClient, resetTokenFromLink } from '../index.ts';

/** Finishes a password reset from the e-mailed link; every session and API key is revoked. */
export async function finishReset(baseUrl: string, link: string, newPassword: string): Promise<void> {
  const token = resetTokenFromLink(link);
  if (token === undefined) throw new Error('not a reset link');
  const done = await createQuazzarClient({ baseUrl }).confirmPasswordReset({ token, new_password: newPassword });
  if (!done.ok) throw new Error(done.error.code === 'invalid_reset_token' ? 'the link has expired: ask for a new one' : done.error.detail);
}
