import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, type TestApp } from '../../test/helpers.ts';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await buildTestApp({ config: { rateLimitMultiplier: 1000 } });
  token = (await newSession(t)).token;
});
afterAll(async () => {
  await t?.close();
});

const operations = [
  { method: 'POST', path: '/auth/register', auth: false },
  { method: 'POST', path: '/auth/login', auth: false },
  { method: 'POST', path: '/auth/password/change', auth: true },
  { method: 'PATCH', path: '/users/me', auth: true },
];

const bodies: (string | Buffer)[] = [
  'null', 'true', '12', '[]', '[{}]', '{}', '{"email":null}', '{"email":12,"password":[],"full_name":{}}',
  '{"email":"a@b.c","password":"x","__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}',
  `{"email":"${'a'.repeat(300)}@example.com","password":"${'p'.repeat(200)}"}`, '{"full_name":"\u0000\u202e"}',
  '{"phone":"+1 (555) 0100"}', '{"email":"ünïcødé@exämple.com","password":"whatever-long-enough"}',
  Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), '{"a":'.repeat(2000), '\ufeff{}',
];

describe('hostile input never produces a 5xx or an undocumented answer', () => {
  for (const op of operations) {
    it(`${op.method} ${op.path}`, async () => {
      for (const raw of bodies) {
        // The helper throws when an answer is not documented for the operation (contract check).
        const res = await t.request(op.path, { method: op.method, raw, headers: { 'content-type': 'application/json' }, ...(op.auth ? { token } : {}) });
        expect(res.status, `${String(raw).slice(0, 40)} → ${res.status}`).toBeLessThan(500);
        expect(res.status).toBeGreaterThanOrEqual(200);
        if (res.status >= 400) expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(JSON.stringify(res.body)).not.toContain('p'.repeat(50));
      }
    });
  }

  it('odd headers: a huge Authorization, repeated slashes, encoded paths', async () => {
    expect((await t.request('/users/me', { headers: { authorization: `Bearer ${'a'.repeat(6000)}` } })).status).toBe(401);
    expect((await t.request('/users/me', { headers: { authorization: 'Bearer' } })).status).toBe(401);
    expect((await t.request('//users//me')).status).toBe(404);
    expect((await t.request('/users/%6De')).status).toBe(404);
    expect((await t.request('/users/me/../me', { token })).status).toBeLessThan(500);
  });
});
