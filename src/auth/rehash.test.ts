import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, type TestApp } from '../../test/helpers.ts';
import { hashPassword, hashParams } from './passwords.ts';

// Issue #10 defect 10: after SCRYPT_LOG_N is raised, the dummy hash of unknown addresses
// follows the new cost while old hashes keep the old one (a timing oracle again). A right
// password re-hashes a weaker stored hash with the configured parameters.

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { SCRYPT_LOG_N: '11' } });
});
afterAll(async () => t.close());

describe('rehash on login', () => {
  it('a right password upgrades a hash made with a lower SCRYPT_LOG_N; a wrong one changes nothing', async () => {
    const user = await registerUser(t);
    const weak = await hashPassword(user.password, 10);
    await t.deps.db('users').where({ id: user.id }).update({ password_hash: weak });
    const wrong = await t.request('/auth/login', { json: { email: user.email, password: 'not-the-password-at-all' } });
    expect(wrong.status).toBe(401);
    expect((await t.deps.db('users').where({ id: user.id }).first('password_hash')).password_hash).toBe(weak);
    const ok = await t.request('/auth/login', { json: { email: user.email, password: user.password } });
    expect(ok.status).toBe(200);
    const stored = (await t.deps.db('users').where({ id: user.id }).first('password_hash')).password_hash as string;
    expect(stored).not.toBe(weak);
    expect(hashParams(stored)).toMatchObject({ logN: 11 });
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(200);
  });
});
