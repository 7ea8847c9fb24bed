import { createQuazzarClient, type Failure, type QuazzarClient } from '../index.ts';

/** Signs in, asking for a TOTP (or backup) code only when the account needs one. */
export async function signIn(baseUrl: string, email: string, password: string, askForCode: () => Promise<string>): Promise<QuazzarClient> {
  const qz = createQuazzarClient({
    baseUrl,
    retry: { attempts: 3, maxWaitSeconds: 30 }, // idempotent calls only (GET, PUT, DELETE, …)
    onSessionEnded: () => console.warn('session expired or revoked: sign in again'),
  });
  let outcome = await qz.login({ email, password });
  if (outcome.kind === 'totp_required') outcome = await outcome.withTotpCode(await askForCode());
  if (outcome.kind === 'failed') throw new Error(explain(outcome));
  return qz; // sends the session token from now on; qz.logout() forgets it
}

/** A message for a person. `error.code` is the contract's ProblemCode union: a misspelled case does not compile. */
export function explain({ error, rateLimit }: Failure): string {
  switch (error.code) {
    case 'validation_failed':
    case 'weak_password':
      return error.errors.map((e) => `${e.pointer}: ${e.detail}`).join('; ');
    case 'invalid_credentials':
      return 'Wrong e-mail or password.';
    case 'rate_limited':
    case 'totp_locked':
      return `Too many attempts: try again in ${rateLimit.retryAfterSeconds ?? 60} s.`;
    case 'network_error':
      return 'No connection to the server.';
    default:
      return error.detail;
  }
}
