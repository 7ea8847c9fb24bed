import type { RateLimitSpec } from '../contract.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import type { RateLimitResult } from './limiter.ts';

/** IETF RateLimit header fields draft: `"login";q=10;w=60` and `"login";r=3;t=42`. */
export function rateLimitHeaders(spec: RateLimitSpec, limit: number, result: RateLimitResult): Record<string, string> {
  return {
    'RateLimit-Policy': `"${spec.policy}";q=${limit};w=${spec.window_seconds}`,
    RateLimit: `"${spec.policy}";r=${result.remaining};t=${secondsUntil(result)}`,
  };
}

/** Whole seconds until the window resets, at least 1 (RFC 9110 Retry-After). */
export function secondsUntil(result: RateLimitResult): number {
  return Math.max(1, Math.ceil(result.resetMs / 1000));
}

export function effectiveLimit(deps: Pick<AppDeps, 'config'>, spec: RateLimitSpec): number {
  return spec.limit * deps.config.rateLimitMultiplier;
}

export function rateLimitedProblem(spec: RateLimitSpec, limit: number, result: RateLimitResult): Problem {
  const retryAfter = secondsUntil(result);
  return new Problem(429, 'rate_limited', `Too many requests (policy "${spec.policy}"); retry in ${retryAfter} s.`, {
    headers: { ...rateLimitHeaders(spec, limit, result), 'Retry-After': String(retryAfter) },
  });
}

/**
 * Counts one request against `spec` for `key` (from budgetKey). Returns the headers to put
 * on the answer, or throws 429 with Retry-After and the same headers. A refused request is
 * not counted. Limits come from the contract's `x-rate-limit`, never from code.
 */
export async function consumeBudget(deps: Pick<AppDeps, 'config' | 'limiter'>, spec: RateLimitSpec, key: string): Promise<Record<string, string>> {
  const limit = effectiveLimit(deps, spec);
  const result = await deps.limiter.consume(spec.policy, key, limit, spec.window_seconds * 1000);
  if (!result.allowed) throw rateLimitedProblem(spec, limit, result);
  return rateLimitHeaders(spec, limit, result);
}
