import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandlers } from '../deps.ts';
import { completePasswordReset } from './confirm-password-reset.ts';
import { startPasswordResetInBackground } from './request-password-reset.ts';

type RequestBody = operations['requestPasswordReset']['requestBody']['content']['application/json'];
type ConfirmBody = operations['confirmPasswordReset']['requestBody']['content']['application/json'];
type MessageBody = operations['confirmPasswordReset']['responses'][200]['content']['application/json'];

/** The one answer to every valid reset request, whether or not the address has an account. */
export const RESET_REQUESTED_MESSAGE = 'If an account exists for this email address, a password reset link has been sent.';

export function createPasswordResetHandlers(deps: AppDeps): OperationHandlers {
  return {
    async requestPasswordReset(c, ctx) {
      const { email } = c.request.requestBody as RequestBody;
      startPasswordResetInBackground(deps, email);
      const body: MessageBody = { message: RESET_REQUESTED_MESSAGE };
      ctx.status = 200;
      ctx.body = body;
    },

    async confirmPasswordReset(c, ctx) {
      const { token, new_password } = c.request.requestBody as ConfirmBody;
      await completePasswordReset(deps, token, new_password);
      const body: MessageBody = { message: 'Password has been reset' };
      ctx.status = 200;
      ctx.body = body;
    },
  };
}
