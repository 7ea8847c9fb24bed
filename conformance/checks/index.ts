import type { CheckDef } from '../framework/types.ts';
import { accessChecks } from './access.ts';
import { accountsChecks } from './accounts.ts';
import { apiKeysChecks } from './api-keys.ts';
import { credentialChangeChecks } from './credential-changes.ts';
import { clientIdentityChecks } from './client-identity.ts';
import { errorsChecks } from './errors.ts';
import { hardeningChecks } from './hardening.ts';
import { identityClassChecks } from './identity-classes.ts';
import { generativeChecks } from './generative.ts';
import { positiveGenerativeChecks } from './generative-positive.ts';
import { inputHygieneChecks } from './input-hygiene.ts';
import { loginChecks } from './login.ts';
import { negativeChecks } from './negative.ts';
import { numberBoundChecks } from './number-bounds.ts';
import { passwordResetChecks } from './password-reset.ts';
import { quotaChecks } from './quotas.ts';
import { rateLimitsChecks } from './rate-limits.ts';
import { rateWindowChecks } from './rate-windows.ts';
import { resetLifecycleChecks } from './reset-lifecycle.ts';
import { responseHeaderChecks } from './response-headers.ts';
import { sessionsChecks } from './sessions.ts';
import { tokenClaimsChecks } from './token-claims.ts';
import { totpChecks } from './totp.ts';
import { totpWindowChecks } from './totp-window.ts';
import { usersChecks } from './users.ts';

// Every check of the suite, in run order. Rate limits run late (they spend whole budgets on
// purpose); errors run last because some of its checks judge every exchange of the run.

export const AREAS = ['accounts', 'login', 'sessions', 'users', 'totp', 'password-reset', 'api-keys', 'access', 'negative', 'hardening', 'rate-limits', 'errors'];

const registered: CheckDef[] = [
  ...accountsChecks,
  ...loginChecks,
  ...sessionsChecks,
  ...tokenClaimsChecks,
  ...usersChecks,
  ...totpChecks,
  ...totpWindowChecks,
  ...passwordResetChecks,
  ...resetLifecycleChecks,
  ...apiKeysChecks,
  ...quotaChecks,
  ...accessChecks,
  ...negativeChecks,
  ...hardeningChecks,
  ...credentialChangeChecks,
  ...generativeChecks,
  ...positiveGenerativeChecks,
  ...inputHygieneChecks,
  ...rateLimitsChecks,
  ...clientIdentityChecks,
  ...identityClassChecks,
  ...rateWindowChecks,
  ...numberBoundChecks,
  ...errorsChecks,
  ...responseHeaderChecks,
];

export const allChecks: CheckDef[] = [...registered].sort((a, b) => AREAS.indexOf(a.area) - AREAS.indexOf(b.area));

const ids = new Set<string>();
for (const check of allChecks) {
  if (ids.has(check.id)) throw new Error(`duplicate check id ${check.id}`);
  if (!AREAS.includes(check.area)) throw new Error(`check ${check.id} has an unknown area ${check.area}`);
  ids.add(check.id);
}
