import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadContract } from '../src/contract.ts';
import { budgetKey } from '../src/rate-limit/limiter.ts';
import { buildTestApp, type TestApp } from './helpers.ts';

// The statuses every part-2 operation shares with the rest of the API (400 malformed JSON,
// 413, 415, 429), driven by what the contract documents for each operation: a status the
// contract lists is produced here, so a status documented but unreachable fails this test.
const PART2 = [
  'provisionTotp', 'verifyTotp', 'disableTotp', 'requestPasswordReset', 'confirmPasswordReset',
  'createApiKey', 'listApiKeys', 'revokeApiKey', 'listProjects', 'createProject', 'getProject',
];
const GENERIC: Record<number, string> = { 400: 'malformed_json', 413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };
const SAMPLE_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

let t: TestApp;
beforeAll(async () => { t = await buildTestApp(); });
afterAll(async () => t.close());
beforeEach(async () => { await t.deps.limiter.reset('ip|'); });

const contract = loadContract();
const cases = PART2.flatMap((operationId) => {
  const responses = contract.operation(operationId).raw.responses as Record<string, unknown>;
  return Object.keys(GENERIC).map(Number).filter((status) => status in responses).map((status) => ({ operationId, status }));
});

describe('generic statuses of part 2, as documented', () => {
  it('covers every part-2 operation', () => {
    expect(new Set(cases.map((c) => c.operationId))).toEqual(new Set(PART2));
  });

  it.each(cases)('$operationId answers $status', async ({ operationId, status }) => {
    const op = t.deps.contract.operation(operationId);
    const path = op.path.replace(/\{[^}]+\}/g, SAMPLE_ID);
    const method = op.method.toUpperCase();
    const send = (raw: string | undefined, contentType = 'application/json') =>
      t.request(path, { method, ...(raw === undefined ? {} : { raw, headers: { 'content-type': contentType } }) });
    let res;
    if (status === 400) res = await send('{"broken": ');
    else if (status === 413) res = await send(JSON.stringify({ name: 'x'.repeat(t.deps.contract.bodyLimitBytes) }));
    else if (status === 415) res = await send('name=x', 'application/x-www-form-urlencoded');
    else {
      // Spend the budget this (credential-less) request counts against: its policy, keyed by our IP.
      const spec = op.rateLimit;
      const limit = spec.limit * t.deps.config.rateLimitMultiplier;
      for (let i = 0; i < limit; i++) await t.deps.limiter.consume(spec.policy, budgetKey('ip', '127.0.0.1'), limit, spec.window_seconds * 1000);
      res = await send(op.raw.requestBody === undefined ? undefined : '{}');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('ratelimit-policy')).toContain(`"${spec.policy}"`);
    }
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(GENERIC[status]);
  });
});
