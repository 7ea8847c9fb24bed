import type { operations } from '../../generated/api.d.ts';
import { sessionOf } from '../auth/principal.ts';
import { requireRecentAuthentication } from '../auth/reauthenticate.ts';
import type { AppDeps, OperationHandlers } from '../deps.ts';
import { answerDeclares } from '../contract.ts';
import { disableTotpWithCode, enableTotp, provisionTotpSecret } from './totp-service.ts';

type Json<Op extends keyof operations, S extends keyof operations[Op]['responses']> =
  operations[Op]['responses'][S] extends { content: { 'application/json': infer B } } ? B : never;
type VerifyBody = operations['verifyTotp']['requestBody']['content']['application/json'];
type DisableBody = operations['disableTotp']['requestBody']['content']['application/json'];

export function createTotpHandlers(deps: AppDeps): OperationHandlers {
  // A contract before 2.1.0 has no `revoked` in the enrolment answer (the keys still end).
  const tellsRevoked = answerDeclares(deps.contract, 'verifyTotp', 200, 'revoked');
  return {
    async provisionTotp(_c, ctx) {
      const body: Json<'provisionTotp', 200> = await provisionTotpSecret(deps, sessionOf(ctx).userId);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      ctx.body = body;
    },

    async verifyTotp(c, ctx) {
      const session = sessionOf(ctx);
      const { code, current_password: currentPassword } = c.request.requestBody as VerifyBody;
      await requireRecentAuthentication(deps, ctx, 'verifyTotp', currentPassword);
      const { backupCodes, revoked } = await enableTotp(deps, session.userId, session.sessionId, code);
      const body: Json<'verifyTotp', 200> = { message: 'TOTP successfully enabled', backup_codes: backupCodes, ...(tellsRevoked ? { revoked } : {}) };
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      ctx.body = body;
    },

    async disableTotp(c, ctx) {
      const { code, current_password: currentPassword } = c.request.requestBody as DisableBody;
      await requireRecentAuthentication(deps, ctx, 'disableTotp', currentPassword);
      await disableTotpWithCode(deps, sessionOf(ctx).userId, code);
      const body: Json<'disableTotp', 200> = { message: 'TOTP disabled' };
      ctx.status = 200;
      ctx.body = body;
    },
  };
}
