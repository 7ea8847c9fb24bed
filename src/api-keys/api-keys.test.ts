import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, type TestApp } from '../../test/helpers.ts';
import { hashApiKey } from './api-key-secret.ts';

let t: TestApp;
beforeAll(async () => { t = await buildTestApp(); });
afterAll(async () => t.close());
beforeEach(async () => { await t.deps.limiter.reset('ip|'); });

const createProject = async (token: string, name = 'Mars Rover') =>
  (await t.request('/projects', { json: { name }, token })).body as { id: string; name: string };

describe('createApiKey', () => {
  it('201 with the secret once (no-store), qzk_ prefix, SHA-256 at rest, scoped to own projects', async () => {
    const { user, token } = await newSession(t);
    const p1 = await createProject(token, 'One');
    const res = await t.request('/users/me/api-keys', { json: { name: 'CI', project_ids: [p1.id] }, token });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.key).toMatch(/^qzk_[A-Za-z0-9_-]{43}$/);
    expect(res.body.prefix).toBe(res.body.key.slice(0, 12));
    expect(res.body).toMatchObject({ name: 'CI', project_ids: [p1.id], last_used_at: null });
    const row = await t.deps.db('api_keys').where({ id: res.body.id }).first();
    expect(row.key_hash).toBe(hashApiKey(res.body.key));
    expect(JSON.stringify(row)).not.toContain(res.body.key);
    expect(row.user_id).toBe(user.id);
  });

  it('defaults to no projects', async () => {
    const { token } = await newSession(t);
    const res = await t.request('/users/me/api-keys', { json: { name: 'bare' }, token });
    expect(res.status).toBe(201);
    expect(res.body.project_ids).toEqual([]);
  });

  it('422 unknown_project for another user\'s or a nonexistent project', async () => {
    const a = await newSession(t);
    const b = await newSession(t);
    const own = await createProject(a.token);
    const foreign = await createProject(b.token);
    for (const ids of [[own.id, foreign.id], [randomUUID()]]) {
      const res = await t.request('/users/me/api-keys', { json: { name: 'x', project_ids: ids }, token: a.token });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('unknown_project');
      expect(JSON.stringify(res.body)).not.toContain('"Mars Rover"');
    }
    expect(await t.deps.db('api_keys').where({ user_id: a.user.id }).count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  it('422 validation_failed for bad bodies (no name, extra field, duplicate ids, not uuids)', async () => {
    const { token } = await newSession(t);
    const id = randomUUID();
    for (const json of [{}, { name: '' }, { name: 'x', admin: true }, { name: 'x', project_ids: [id, id] }, { name: 'x', project_ids: ['nope'] }]) {
      const res = await t.request('/users/me/api-keys', { json, token });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_failed');
    }
  });
});

describe('listApiKeys', () => {
  it('lists live keys oldest first, with scopes, never the secret', async () => {
    const { token } = await newSession(t);
    const p = await createProject(token);
    const k1 = (await t.request('/users/me/api-keys', { json: { name: 'first' }, token })).body;
    t.clock.advance(1000);
    const k2 = (await t.request('/users/me/api-keys', { json: { name: 'second', project_ids: [p.id] }, token })).body;
    const res = await t.request('/users/me/api-keys', { token });
    expect(res.status).toBe(200);
    expect(res.body.api_keys.map((k: { id: string }) => k.id)).toEqual([k1.id, k2.id]);
    expect(res.body.api_keys[1].project_ids).toEqual([p.id]);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(k1.key);
    expect(text).not.toContain(k2.key);
  });

  it('records last_used_at when a key is used', async () => {
    const { token } = await newSession(t);
    const k = (await t.request('/users/me/api-keys', { json: { name: 'used' }, token })).body;
    expect((await t.request('/users/me', { token: k.key })).status).toBe(200);
    const listed = (await t.request('/users/me/api-keys', { token })).body.api_keys[0];
    expect(listed.last_used_at).not.toBeNull();
  });
});

describe('revokeApiKey', () => {
  it('204, refused at once afterwards (401), then 404 api_key_not_found', async () => {
    const { token } = await newSession(t);
    const k = (await t.request('/users/me/api-keys', { json: { name: 'temp' }, token })).body;
    expect((await t.request('/users/me', { token: k.key })).status).toBe(200);
    const res = await t.request(`/users/me/api-keys/${k.id}`, { method: 'DELETE', token });
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    const used = await t.request('/users/me', { token: k.key });
    expect(used.status).toBe(401);
    expect(used.body.code).toBe('invalid_token');
    expect((await t.request('/users/me/api-keys', { token })).body.api_keys).toEqual([]);
    const again = await t.request(`/users/me/api-keys/${k.id}`, { method: 'DELETE', token });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('api_key_not_found');
  });

  it('404 for another user\'s key (which keeps working) and for an unknown id; 422 for a non-uuid', async () => {
    const a = await newSession(t);
    const b = await newSession(t);
    const bKey = (await t.request('/users/me/api-keys', { json: { name: 'b' }, token: b.token })).body;
    for (const id of [bKey.id, randomUUID()]) {
      const res = await t.request(`/users/me/api-keys/${id}`, { method: 'DELETE', token: a.token });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('api_key_not_found');
    }
    expect((await t.request('/users/me', { token: bKey.key })).status).toBe(200);
    const bad = await t.request('/users/me/api-keys/not-a-uuid', { method: 'DELETE', token: a.token });
    expect(bad.status).toBe(422);
  });
});

describe('keys cannot manage credentials', () => {
  it('403 session_required on key management, logout and password change; 401 without credentials', async () => {
    const { user, token } = await newSession(t);
    const k = (await t.request('/users/me/api-keys', { json: { name: 'ci' }, token })).body;
    const calls = [
      { path: '/users/me/api-keys', method: 'POST', json: { name: 'escalate' } },
      { path: '/users/me/api-keys', method: 'GET' },
      { path: `/users/me/api-keys/${k.id}`, method: 'DELETE' },
      { path: '/auth/logout', method: 'POST' },
      { path: '/auth/password/change', method: 'POST', json: { current_password: user.password, new_password: 'another-passphrase-777' } },
    ];
    for (const call of calls) {
      const res = await t.request(call.path, { ...call, token: k.key });
      expect(res.status, `${call.method} ${call.path}`).toBe(403);
      expect(res.body.code).toBe('session_required');
      const anonymous = await t.request(call.path, call);
      expect(anonymous.status).toBe(401);
    }
    // The key was not revoked by its own DELETE attempt.
    expect((await t.request('/users/me', { token: k.key })).status).toBe(200);
  });

  it('a deactivated account\'s key is refused at once', async () => {
    const { user, token } = await newSession(t);
    const k = (await t.request('/users/me/api-keys', { json: { name: 'ci' }, token })).body;
    await t.deps.db('users').where({ id: user.id }).update({ is_active: false });
    expect((await t.request('/users/me', { token: k.key })).status).toBe(401);
  });
});
