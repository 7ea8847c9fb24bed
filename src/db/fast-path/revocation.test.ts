// Revocation under the hot path: two app instances share one database (an SQLite file, or a
// PostgreSQL schema); requests keep flowing on both, and each way of revoking access, done on
// instance A, must hold on the very next request on A AND on B.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, registerUser, STRONG_PASSWORD, type TestApp } from '../../../test/helpers.ts';
import { setUserActive } from '../../users/repository.ts';

const pgUrl = process.env.TEST_DATABASE_URL;

function revocationSuite(setup: () => Promise<{ a: TestApp; b: TestApp; cleanup(): Promise<void> }>) {
  let a: TestApp;
  let b: TestApp;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ a, b, cleanup } = await setup());
  });
  afterAll(async () => cleanup?.());

  const me = async (t: TestApp, token: string) => (await t.request('/users/me', { token })).status;
  /** Several answered requests on both instances: whatever a hot path keeps, it now holds this credential. */
  const warm = async (token: string) => {
    for (let i = 0; i < 3; i++) {
      expect(await me(a, token)).toBe(200);
      expect(await me(b, token)).toBe(200);
    }
  };
  const session = async (user?: { email: string; password: string }) => {
    const u = user ?? (await registerUser(a));
    const token = await loginUser(a, u);
    await a.deps.limiter.reset('ip|');
    await b.deps.limiter.reset('ip|');
    return { user: u as { id?: string; email: string; password: string }, token };
  };

  it('logout on A: the same token is refused at once on A and B', async () => {
    const { token } = await session();
    await warm(token);
    expect((await a.request('/auth/logout', { method: 'POST', token })).status).toBe(200);
    expect(await me(b, token)).toBe(401);
    expect(await me(a, token)).toBe(401);
  });

  it('password change on A: the other sessions stop at once on B, the current one goes on', async () => {
    const { user, token: current } = await session();
    const { token: other } = await session(user);
    await warm(current);
    await warm(other);
    const res = await a.request('/auth/password/change', { json: { current_password: STRONG_PASSWORD, new_password: 'another-strong-password-456' }, token: current });
    expect(res.status).toBe(200);
    expect(await me(b, other)).toBe(401);
    expect(await me(a, other)).toBe(401);
    expect(await me(b, current)).toBe(200);
  });

  it('password reset on A: every session stops at once on B', async () => {
    const { user, token } = await session();
    await warm(token);
    expect((await a.request('/auth/password-reset/request', { json: { email: user.email } })).status).toBe(200);
    let link: string | undefined;
    for (let i = 0; i < 400 && link === undefined; i++) {
      link = /(http\S+\/reset-password\?token=\S+)/.exec(a.mailer.sent.find((m) => m.to === user.email)?.text ?? '')?.[1];
      if (link === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    const resetToken = new URL(link!).searchParams.get('token')!;
    expect(await me(b, token)).toBe(200);
    const res = await a.request('/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'reset-strong-password-789' } });
    expect(res.status).toBe(200);
    expect(await me(b, token)).toBe(401);
    expect(await me(a, token)).toBe(401);
  });

  it('TOTP enabled on A: the other sessions stop at once on B', async () => {
    const { user, token: current } = await session();
    const { token: other } = await session(user);
    await warm(other);
    const prov = await a.request('/auth/totp/provision', { method: 'POST', token: current });
    expect(prov.status).toBe(200);
    expect(await me(b, other)).toBe(200);
    const code = await generate({ secret: prov.body.secret, epoch: Math.floor(a.clock.now() / 1000) });
    expect((await a.request('/auth/totp/verify', { json: { code }, token: current })).status).toBe(200);
    expect(await me(b, other)).toBe(401);
    expect(await me(a, other)).toBe(401);
    expect(await me(b, current)).toBe(200);
  });

  it('deactivation (operator, through A\'s database handle): session and API key stop at once on B, and activation does not bring them back (issue #10.9)', async () => {
    const { user, token } = await session();
    const key = (await a.request('/users/me/api-keys', { json: { name: 'ci' }, token })).body.key as string;
    await warm(token);
    await warm(key);
    await setUserActive(a.deps.db, user.email, false, a.clock.now());
    expect(await me(b, token)).toBe(401);
    expect(await me(b, key)).toBe(401);
    expect(await me(a, key)).toBe(401);
    await setUserActive(a.deps.db, user.email, true, a.clock.now());
    expect(await me(b, token)).toBe(401);
    expect(await me(b, key)).toBe(401);
    expect(await me(a, token)).toBe(401);
  });

  it('API key revoked on A: refused at once on B, while the session that revoked it goes on', async () => {
    const { token } = await session();
    const created = (await a.request('/users/me/api-keys', { json: { name: 'to-revoke' }, token })).body as { id: string; key: string };
    await warm(created.key);
    expect((await a.request(`/users/me/api-keys/${created.id}`, { method: 'DELETE', token })).status).toBe(204);
    expect(await me(b, created.key)).toBe(401);
    expect(await me(a, created.key)).toBe(401);
    expect(await me(b, token)).toBe(200);
  });

  it('a revocation on B holds on A too (the other direction)', async () => {
    const { token } = await session();
    await warm(token);
    expect((await b.request('/auth/logout', { method: 'POST', token })).status).toBe(200);
    expect(await me(a, token)).toBe(401);
  });
}

describe('revocation on the very next request, two instances on one SQLite file', () => {
  revocationSuite(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quazzar-revocation-'));
    const env = { DATABASE_URL: `sqlite:${path.join(dir, 'shared.sqlite')}` };
    const a = await buildTestApp({ env });
    const b = await buildTestApp({ env });
    return {
      a, b,
      async cleanup() {
        await b.close();
        await a.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describe('revocation on the very next request, one instance on in-memory SQLite (shared connection)', () => {
  // :memory: exists only inside knex's single connection, so "A" and "B" are one app here.
  revocationSuite(async () => {
    const a = await buildTestApp();
    return { a, b: a, cleanup: () => a.close() };
  });
});

describe.skipIf(pgUrl === undefined)('revocation on the very next request, two instances on one PostgreSQL schema (skipped without TEST_DATABASE_URL=postgres://…)', () => {
  revocationSuite(async () => {
    const a = await buildTestApp({ usePostgres: true });
    const b = await buildTestApp({ env: { DATABASE_URL: a.deps.config.databaseUrl } });
    return {
      a, b,
      async cleanup() {
        await b.close();
        await a.close();
      },
    };
  });
});
