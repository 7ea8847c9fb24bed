import type { AppDeps } from '../deps.ts';
import { errorFields } from '../log.ts';
import { sendInBackground } from '../mail/create-mailer.ts';
import { budgetKey } from '../rate-limit/limiter.ts';
import { findUserByEmail, normalizeEmail } from '../users/repository.ts';
import { buildResetMail } from './reset-mail.ts';
import { issueResetToken } from './reset-token-store.ts';

interface RecipientBudget {
  policy: string;
  limit: number;
  window_seconds: number;
}

/** The contract's `x-rate-limit-recipient` of requestPasswordReset (issue #10 defect 6). */
export function recipientBudgetOf(deps: Pick<AppDeps, 'contract'>): RecipientBudget {
  const v = deps.contract.operation('requestPasswordReset').raw['x-rate-limit-recipient'] as Partial<RecipientBudget> & { key?: string } | undefined;
  if (v === undefined || typeof v.policy !== 'string' || !Number.isInteger(v.limit) || !Number.isInteger(v.window_seconds) || v.key !== 'account') {
    throw new Error('contract: requestPasswordReset x-rate-limit-recipient must be {policy, limit, window_seconds, key: account}');
  }
  return v as RecipientBudget;
}

/**
 * Called after the answer was decided (the caller answers the same 200 at once, whatever
 * happens here): nothing about the address shows in the answer or its timing.
 */
export function startPasswordResetInBackground(deps: AppDeps, email: string): void {
  startPasswordReset(deps, email).catch((err: unknown) => deps.log.error('password reset request failed', errorFields(err)));
}

/**
 * Spends a unit of the address's recipient budget (existing or not); beyond it does nothing
 * (no mail, the live token stays valid). Otherwise issues a token and mails the link when the
 * address belongs to an active account.
 */
export async function startPasswordReset(deps: AppDeps, email: string): Promise<void> {
  // A contract without x-rate-limit-recipient (1.0.0) promises no per-recipient budget.
  if (deps.contract.operation('requestPasswordReset').raw['x-rate-limit-recipient'] !== undefined) {
    const budget = recipientBudgetOf(deps);
    const limit = budget.limit * deps.config.rateLimitMultiplier;
    const spent = await deps.limiter.consume(budget.policy, budgetKey('account', normalizeEmail(email)), limit, budget.window_seconds * 1000);
    if (!spent.allowed) return;
  }
  const user = await findUserByEmail(deps.db, email);
  // A deactivated account could not log in with a new password anyway: send it nothing.
  if (user === undefined || !user.is_active) return;
  const token = await issueResetToken(deps.db, user.id, deps.clock.now());
  if (token === undefined) return; // deactivated meanwhile
  sendInBackground(deps.mailer, deps.log, buildResetMail(user.email, deps.config.publicUrl, token));
}
