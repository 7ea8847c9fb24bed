import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, type TestApp } from '../../test/helpers.ts';

// Issue #10 defect 2: the per-account failed-login budget was checked before scrypt and
// counted after it, so every guess in flight passed the check. Now a guess reserves its unit
// before hashing (and a success gives it back): parallel guesses cannot exceed the budget.

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { TRUST_PROXY: 'true' } });
});
afterAll(async () => t.close());

describe('per-account failed-login budget under concurrency', () => {
  it('parallel wrong guesses from many addresses get at most `limit` password checks', async () => {
    const user = await registerUser(t);
    const failures = t.deps.contract.operation('login').failureRateLimit!;
    const attempts = failures.limit + 40;
    const answers = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        t.request('/auth/login', {
          json: { email: user.email, password: `wrong-password-${i}` },
          headers: { 'x-forwarded-for': `10.${(i >> 8) & 255}.${i & 255}.1` },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(failures.limit);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(attempts - failures.limit);
  });

  it('a successful login gives its reservation back', async () => {
    const user = await registerUser(t);
    const failures = t.deps.contract.operation('login').failureRateLimit!;
    for (let i = 0; i < failures.limit + 5; i++) {
      const res = await t.request('/auth/login', { json: { email: user.email, password: user.password }, headers: { 'x-forwarded-for': `10.99.${i}.1` } });
      expect(res.status).toBe(200);
    }
  });
});
