// Type-level tests of the client, checked by `npx tsc --noEmit` (not run by vitest): the error
// code is the contract's union, so an exhaustive switch compiles, a missing case or a misspelled
// code does not, and the data of each helper is the contract's schema.
import type { components } from '../generated/api.d.ts';
import type { ClientError, ClientSideCode, ErrorCode, ProblemCode, QuazzarClient, Result } from './index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assert = <T extends true>(_: T) => _;

// The union is the generated one, not a copy.
assert<Equal<ProblemCode, components['schemas']['ProblemCode']>>(true);
assert<Equal<ErrorCode, ProblemCode | ClientSideCode>>(true);
// The client's own codes never collide with a contract code (this fails if the contract adds one).
assert<Equal<Extract<ProblemCode, ClientSideCode>, never>>(true);

/** An exhaustive switch with a `never` default compiles. */
export function message(error: ClientError): string {
  switch (error.code) {
    case 'malformed_json':
    case 'payload_too_large':
    case 'unsupported_media_type':
    case 'method_not_allowed':
    case 'not_found':
    case 'internal_error':
    case 'unexpected_response':
      return 'Something went wrong on our side.';
    case 'validation_failed':
    case 'weak_password':
      return error.errors.map((e) => `${e.pointer}: ${e.detail}`).join('\n');
    case 'invalid_reset_token':
      return 'The reset link is invalid or has expired.';
    case 'authentication_required':
    case 'invalid_token':
    case 'session_required':
      return 'Please sign in.';
    case 'invalid_credentials':
      return 'Wrong e-mail or password.';
    case 'totp_required':
      return 'Enter the code from your authenticator app.';
    case 'invalid_totp_code':
      return 'That code is wrong.';
    case 'account_deactivated':
      return 'This account is deactivated.';
    case 'insufficient_scope':
      return 'This key may not use that project.';
    case 'invalid_current_password':
      return 'Wrong password.';
    case 'reauthentication_required':
      return 'Confirm your password.';
    case 'project_not_found':
    case 'api_key_not_found':
      return 'Not found.';
    case 'email_taken':
      return 'That address already has an account.';
    case 'totp_already_enabled':
    case 'totp_not_provisioned':
    case 'totp_not_enabled':
      return 'Two-factor authentication is in another state.';
    case 'unknown_project':
      return 'Unknown project.';
    case 'limit_reached':
      return 'Limit reached.';
    case 'rate_limited':
    case 'totp_locked':
    case 'service_unavailable':
      return 'Try again later.';
    case 'network_error':
      return 'No connection.';
    default: {
      const unhandled: never = error.code;
      return `Unknown error ${String(unhandled)}`; // a code from a newer server lands here at run time
    }
  }
}

/** A switch that forgets codes does not compile. */
export function incomplete(error: ClientError): string {
  switch (error.code) {
    case 'invalid_credentials':
      return 'Wrong e-mail or password.';
    default: {
      // @ts-expect-error -- every other code still reaches this branch, so it is not `never`
      const unhandled: never = error.code;
      return String(unhandled);
    }
  }
}

/** A misspelled code does not compile. */
export function misspelled(error: ClientError): boolean {
  // @ts-expect-error -- 'invalid_credential' is not a code of the contract
  return error.code === 'invalid_credential';
}

// The helpers' data are the contract's schemas.
type DataOf<R> = R extends Promise<Result<infer D>> ? D : never;
assert<Equal<DataOf<ReturnType<QuazzarClient['getCurrentUser']>>, components['schemas']['User']>>(true);
assert<Equal<DataOf<ReturnType<QuazzarClient['listApiKeys']>>, components['schemas']['ApiKeyList']>>(true);
assert<Equal<Parameters<QuazzarClient['createApiKey']>[0], components['schemas']['ApiKeyCreateRequest']>>(true);
assert<Equal<Parameters<QuazzarClient['revokeApiKey']>[0], string>>(true);

export async function bodiesAreChecked(qz: QuazzarClient): Promise<void> {
  // @ts-expect-error -- register needs full_name
  await qz.register({ email: 'a@example.com', password: 'x'.repeat(15) });
  // @ts-expect-error -- `email` is not a field of the profile update
  await qz.updateCurrentUser({ email: 'a@example.com' });
  // @ts-expect-error -- no such path in the contract
  await qz.call(qz.api.GET('/users/me/secrets'));
}
