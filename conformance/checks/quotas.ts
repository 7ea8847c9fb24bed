import { feature } from '../framework/features.ts';
import type { CheckContext, CheckDef } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';

// Per-account quotas (issue 9): `x-quota.limit` on createApiKey and createProject. The
// limit is read from the contract; the check fills the quota on an account of its own (one
// with no keys or projects: the account pool never gives back one that has any), then
// expects 409 limit_reached. (Projects cannot be deleted through the API: a run leaves
// `limit` projects on that account.)

const area = 'api-keys';
/** A quota larger than this would cost the check too many requests: reported, not tried. */
const MAX_AFFORDABLE = 110;

function quotaLimit(ctx: CheckContext, operationId: string): number {
  const op = ctx.contract.operation(operationId);
  const item = ctx.contract.document.paths[op.path][op.method.toLowerCase()];
  const limit = item?.['x-quota']?.limit;
  // Presence is a declared feature (a contract without x-quota skips the check); a malformed one is a contract bug.
  ctx.require(Number.isInteger(limit) && limit >= 1, `${operationId}: x-quota.limit is not an integer ≥ 1 in the contract`);
  if (limit > MAX_AFFORDABLE) ctx.skip(`${operationId}: x-quota.limit ${limit} is over the ${MAX_AFFORDABLE} requests this check affords`);
  return limit as number;
}

function quotaCheck(id: string, operationId: string, what: string, body: (i: number) => Record<string, unknown>): CheckDef {
  return {
    id,
    area,
    level: 'MUST',
    title: `${what}: one past the contract's x-quota.limit per account answers 409 limit_reached`,
    owns: {},
    requires: [feature.extension('x-quota', operationId)],
    async run(ctx: CheckContext) {
      const limit = quotaLimit(ctx, operationId);
      const { token } = await ctx.accounts.own();
      for (let i = 0; i < limit; i++) {
        const ex = await ctx.call(operationId, { token, body: body(i) });
        ctx.require(ex.status === 201, `${operationId} #${i + 1} of ${limit}: expected 201, got ${ex.status}`, ex);
      }
      const over = await ctx.call(operationId, { token, body: body(limit), expect: 409 });
      expectProblem(ctx, over, 409, 'limit_reached', `${operationId} #${limit + 1} (quota ${limit})`);
      ctx.note(`quota ${limit} filled, the next one refused`);
    },
  };
}

export const quotaChecks: CheckDef[] = [
  quotaCheck('KEYS-20', 'createApiKey', 'Live API keys', (i) => ({ name: `quota key ${i}` })),
  quotaCheck('KEYS-21', 'createProject', 'Projects', (i) => ({ name: `quota project ${i}` })),
];
