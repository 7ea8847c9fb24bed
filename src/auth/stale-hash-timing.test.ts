import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, uniqueEmail, type TestApp } from '../../test/helpers.ts';
import { hashingIdle, recordHashRuns } from '../hashing/test-support.ts';
import { hashPassword } from './passwords.ts';

// Issue 17 defect 7 (SEC 4, 32): an account hashed before SCRYPT_LOG_N was raised answered a
// wrong password at its old, cheaper cost, while an unknown address costs one hash at the
// configured cost. Observed as scrypt work (no timed assertion): every wrong-password path
// of login must cost exactly 2^SCRYPT_LOG_N units.

const LOG_N = 12;
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { SCRYPT_LOG_N: String(LOG_N) } });
});
afterAll(async () => t?.close());

async function loginWork(email: string, password: string): Promise<{ status: number; work: number; kinds: string[] }> {
  await hashingIdle(); // the dummy hash made at start is not part of any login
  await t.deps.limiter.reset('');
  const rec = recordHashRuns();
  try {
    const res = await t.request('/auth/login', { json: { email, password } });
    return { status: res.status, work: rec.work(), kinds: rec.runs.map((r) => `${r.kind}:${r.logN}`) };
  } finally {
    rec.stop();
  }
}

async function userWithHash(hash: string) {
  const user = await registerUser(t);
  await t.deps.db('users').where({ id: user.id }).update({ password_hash: hash });
  return user;
}

describe('a wrong password costs the configured scrypt work, whatever the stored hash', () => {
  const full = 2 ** LOG_N;

  it('unknown address: one verify at the configured cost', async () => {
    const r = await loginWork(uniqueEmail(), 'not-the-password-at-all');
    expect(r.status).toBe(401);
    expect(r.work).toBe(full);
  });

  it('an up-to-date hash: one verify, no padding', async () => {
    const user = await registerUser(t);
    const r = await loginWork(user.email, 'not-the-password-at-all');
    expect(r.status).toBe(401);
    expect(r.kinds).toEqual([`verify:${LOG_N}`]);
    expect(r.work).toBe(full);
  });

  for (const stale of [10, 11]) {
    it(`a hash made with SCRYPT_LOG_N=${stale}: padded to the configured cost`, async () => {
      const user = await userWithHash(await hashPassword('the-old-password-of-this-account', stale));
      const r = await loginWork(user.email, 'not-the-password-at-all');
      expect(r.status).toBe(401);
      expect(r.kinds[0]).toBe(`verify:${stale}`);
      expect(r.work).toBe(full);
    });
  }

  it('a corrupt stored hash: padded to the configured cost too', async () => {
    const user = await userWithHash('bm90IGEgaGFzaA==');
    const r = await loginWork(user.email, 'not-the-password-at-all');
    expect(r.status).toBe(401);
    expect(r.work).toBe(full);
  });

  it('the right password on a stale hash still logs in (and re-hashes: no padding on success)', async () => {
    const user = await userWithHash(await hashPassword('the-old-password-of-this-account', 10));
    const r = await loginWork(user.email, 'the-old-password-of-this-account');
    expect(r.status).toBe(200);
    expect(r.kinds).toEqual(['verify:10', `hash:${LOG_N}`]);
  });
});
