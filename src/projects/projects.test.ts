import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, type TestApp } from '../../test/helpers.ts';

let t: TestApp;
beforeAll(async () => { t = await buildTestApp(); });
afterAll(async () => t.close());
beforeEach(async () => { await t.deps.limiter.reset('ip|'); });

const create = async (token: string, name: string) => {
  const res = await t.request('/projects', { json: { name }, token });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; created_at: string };
};
const keyFor = async (token: string, project_ids: string[]) =>
  (await t.request('/users/me/api-keys', { json: { name: 'k', project_ids }, token })).body.key as string;

describe('createProject', () => {
  it('201 with the project; 422 for bad names; 403 with an API key; 401 without credentials', async () => {
    const { token } = await newSession(t);
    const p = await create(token, 'Mars Rover');
    expect(p.name).toBe('Mars Rover');
    for (const json of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', owner_id: randomUUID() }]) {
      const res = await t.request('/projects', { json, token });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_failed');
    }
    const key = await keyFor(token, [p.id]);
    const withKey = await t.request('/projects', { json: { name: 'by key' }, token: key });
    expect(withKey.status).toBe(403);
    expect(withKey.body.code).toBe('session_required');
    expect((await t.request('/projects', { json: { name: 'anon' } })).status).toBe(401);
  });
});

describe('listProjects', () => {
  it('a session sees all its own projects; a key only its scope; nobody sees other users\' projects', async () => {
    const a = await newSession(t);
    const b = await newSession(t);
    const p1 = await create(a.token, 'one');
    t.clock.advance(1000);
    const p2 = await create(a.token, 'two');
    await create(b.token, 'theirs');
    const all = await t.request('/projects', { token: a.token });
    expect(all.status).toBe(200);
    expect(all.body.projects.map((p: { id: string }) => p.id)).toEqual([p1.id, p2.id]);
    const scoped = await t.request('/projects', { token: await keyFor(a.token, [p2.id]) });
    expect(scoped.body.projects.map((p: { id: string }) => p.id)).toEqual([p2.id]);
    const unscoped = await t.request('/projects', { token: await keyFor(a.token, []) });
    expect(unscoped.body.projects).toEqual([]);
    expect((await t.request('/projects')).status).toBe(401);
  });
});

describe('getProject', () => {
  it('200 own; 404 for absent or someone else\'s; 403 insufficient_scope for a key outside its scope; 422 non-uuid', async () => {
    const a = await newSession(t);
    const b = await newSession(t);
    const inScope = await create(a.token, 'in');
    const outOfScope = await create(a.token, 'out');
    const theirs = await create(b.token, 'theirs');
    expect((await t.request(`/projects/${inScope.id}`, { token: a.token })).body).toEqual(inScope);
    for (const id of [theirs.id, randomUUID()]) {
      const res = await t.request(`/projects/${id}`, { token: a.token });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('project_not_found');
    }
    const key = await keyFor(a.token, [inScope.id]);
    expect((await t.request(`/projects/${inScope.id}`, { token: key })).status).toBe(200);
    const denied = await t.request(`/projects/${outOfScope.id}`, { token: key });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('insufficient_scope');
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="quazzar", error="insufficient_scope"');
    const foreign = await t.request(`/projects/${theirs.id}`, { token: key });
    expect(foreign.status).toBe(404);
    expect((await t.request('/projects/not-a-uuid', { token: a.token })).status).toBe(422);
    expect((await t.request(`/projects/${inScope.id}`)).status).toBe(401);
  });

  it('the per-token budget applies per key (121st call in a window is 429)', async () => {
    const { token } = await newSession(t);
    const p = await create(token, 'busy');
    const key = await keyFor(token, [p.id]);
    const spec = t.deps.contract.operation('getProject').rateLimit;
    for (let i = 0; i < spec.limit; i++) expect((await t.request(`/projects/${p.id}`, { token: key })).status).toBe(200);
    const res = await t.request(`/projects/${p.id}`, { token: key });
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
    // Another credential of the same user has its own budget.
    expect((await t.request(`/projects/${p.id}`, { token })).status).toBe(200);
  });
});
