import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotaOf } from '../../src/quotas/quota.ts';
import { buildTestApp, newSession, type TestApp } from '../helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ config: { rateLimitMultiplier: 10 } });
});
afterAll(async () => t.close());

describe('per-account quotas (x-quota in the contract)', () => {
  it('reads the limits from the contract', () => {
    const doc = t.deps.contract.document;
    expect(quotaOf(t.deps.contract, 'createApiKey')).toBe(doc.paths['/users/me/api-keys'].post['x-quota'].limit);
    expect(quotaOf(t.deps.contract, 'createProject')).toBe(doc.paths['/projects'].post['x-quota'].limit);
  });

  it('API keys: the one past the quota is 409 limit_reached; revoking one makes room', async () => {
    const limit = quotaOf(t.deps.contract, 'createApiKey');
    const { token } = await newSession(t);
    const ids: string[] = [];
    for (let i = 0; i < limit; i++) {
      const res = await t.request('/users/me/api-keys', { token, json: { name: `key ${i}` } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const over = await t.request('/users/me/api-keys', { token, json: { name: 'one too many' } });
    expect([over.status, over.body.code]).toEqual([409, 'limit_reached']);
    expect((await t.request(`/users/me/api-keys/${ids[0]}`, { method: 'DELETE', token })).status).toBe(204);
    expect((await t.request('/users/me/api-keys', { token, json: { name: 'room again' } })).status).toBe(201);
    // Another account is not affected.
    const other = await newSession(t);
    expect((await t.request('/users/me/api-keys', { token: other.token, json: { name: 'first' } })).status).toBe(201);
  });

  it('projects: the one past the quota is 409 limit_reached', async () => {
    const limit = quotaOf(t.deps.contract, 'createProject');
    const { token } = await newSession(t);
    for (let i = 0; i < limit; i++) expect((await t.request('/projects', { token, json: { name: `p${i}` } })).status).toBe(201);
    const over = await t.request('/projects', { token, json: { name: 'one too many' } });
    expect([over.status, over.body.code]).toEqual([409, 'limit_reached']);
    expect((await t.request('/projects', { token })).body.projects).toHaveLength(limit);
  });
});
