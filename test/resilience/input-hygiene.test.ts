import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, uniqueEmail, STRONG_PASSWORD, type TestApp } from '../helpers.ts';

// The defects the fuzz (fuzz.test.ts) found, one test each, on SQLite and on PostgreSQL.
const databases = [
  { name: 'SQLite', usePostgres: false },
  ...(process.env.TEST_DATABASE_URL === undefined ? [] : [{ name: 'PostgreSQL', usePostgres: true }]),
];
if (process.env.TEST_DATABASE_URL === undefined) process.stdout.write('input-hygiene: PostgreSQL variant not run (TEST_DATABASE_URL unset)\n');

describe.each(databases)('input hygiene on $name', ({ usePostgres }) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp({ usePostgres, env: { TRUST_PROXY: 'true' }, config: { rateLimitMultiplier: 100 } });
    ({ token } = await newSession(t));
  });
  afterAll(async () => t.close());

  it('a NUL, a C1 control or a lone surrogate in a name is 422 validation_failed pointing at the field', async () => {
    const cases = [
      { path: '/auth/register', method: 'POST', json: { email: uniqueEmail(), password: STRONG_PASSWORD, full_name: 'Jane\u0000Developer' }, pointer: '/full_name' },
      { path: '/auth/register', method: 'POST', json: { email: uniqueEmail(), password: STRONG_PASSWORD, full_name: 'Jane', company_name: 'Acme\u0085' }, pointer: '/company_name' },
      { path: '/users/me', method: 'PATCH', json: { full_name: 'x\ud800y' }, pointer: '/full_name' },
      { path: '/projects', method: 'POST', json: { name: 'p\u0000' }, pointer: '/name' },
      { path: '/users/me/api-keys', method: 'POST', json: { name: '\u001b[31mred' }, pointer: '/name' },
    ];
    for (const c of cases) {
      const res = await t.request(c.path, { method: c.method, json: c.json, token });
      expect(res.status, `${c.method} ${c.path}`).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(c.pointer);
    }
  });

  it('RTL text, combining marks and astral emoji in a name are stored and returned as sent', async () => {
    const name = '\u05D3\u05E0\u05D4 e\u0301 \u{1F469}\u200D\u{1F469}\u200D\u{1F467} \u{1D541}';
    const patched = await t.request('/users/me', { method: 'PATCH', token, json: { full_name: name, company_name: name } });
    expect(patched.status).toBe(200);
    const me = await t.request('/users/me', { token });
    expect([me.body.full_name, me.body.company_name]).toEqual([name, name]);
  });

  it('undeclared query parameters are ignored', async () => {
    expect((await t.request('/health?_=1&_=2&__proto__[x]=1')).status).toBe(200);
    expect((await t.request('/users/me?access_token=x&%zz=%zz', { token })).status).toBe(200);
  });

  it('malformed percent-encoding: 422 in a path parameter, 404 elsewhere', async () => {
    for (const segment of ['%zz', '%', '%ED%A0%80', '%C0%80']) {
      const param = await t.request(`/projects/${segment}`, { token });
      expect([param.status, param.body.code, param.body.errors?.[0]?.pointer]).toEqual([422, 'validation_failed', '/path/projectId']);
      const unknown = await t.request(`/${segment}`, { method: 'PUT' });
      expect([unknown.status, unknown.body.code]).toEqual([404, 'not_found']);
    }
  });

  it('a body on a GET is never read: a large declared length is not a 413 there', async () => {
    const res = await t.request('/users/me', { method: 'GET', token, headers: { 'content-length': '0' } });
    expect(res.status).toBe(200);
    // fetch refuses a GET body; the fuzz sends them over node:http (see fuzz/requests.ts).
  });

  it('an undecodable gzip body is 400 malformed_json, a valid one is read', async () => {
    const broken = await t.request('/projects', { token, raw: '{"name":"x"}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect([broken.status, broken.body.code]).toEqual([400, 'malformed_json']);
    const good = await t.request('/projects', { token, raw: gzipSync('{"name":"zipped"}'), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect([good.status, good.body.name]).toEqual([201, 'zipped']);
  });

  it('a client address of any length (trusted proxy header) still gets a budget', async () => {
    const res = await t.request('/health', { headers: { 'x-forwarded-for': 'x'.repeat(2000) } });
    expect(res.status).toBe(200);
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    const login = await t.request('/auth/login', { json: { email, password: 'wrong-password-123' } });
    expect(login.status).toBe(401);
  });
});
