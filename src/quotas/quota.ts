import type { Knex } from 'knex';
import type { Contract } from '../contract.ts';
import { Problem } from '../errors/problem.ts';

/** `x-quota.limit` of an operation: how many of a resource one account may own (from the contract, never code). */
export function quotaOf(contract: Contract, operationId: string): number {
  const quota = contract.operation(operationId).raw['x-quota'] as { limit?: unknown } | undefined;
  if (!Number.isInteger(quota?.limit) || (quota?.limit as number) < 1) throw new Error(`contract: ${operationId} x-quota.limit must be an integer >= 1`);
  return quota!.limit as number;
}

/**
 * Refuses with 409 `limit_reached` when `owned` rows already reach the operation's quota.
 * Run it in the transaction that inserts: concurrent creations of one account may still
 * overshoot by the number of requests in flight (read committed), never more.
 */
export async function enforceQuota(contract: Contract, operationId: string, owned: Knex.QueryBuilder, what: string): Promise<void> {
  // A contract without x-quota on the operation (1.0.0) promises no quota.
  if (contract.operation(operationId).raw['x-quota'] === undefined) return;
  const limit = quotaOf(contract, operationId);
  const rows = (await owned.count({ n: '*' })) as { n: number | string }[];
  if (Number(rows[0]?.n ?? 0) >= limit) {
    throw new Problem(409, 'limit_reached', `You already have ${limit} ${what}, the most this API allows.`);
  }
}
