import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract } from '../../src/contract.ts';
import { enforceQuota } from '../../src/quotas/quota.ts';
import { resolveContract } from '../framework/contract-version.ts';
import { startReference, type RunningReference } from './reference-server.ts';

// The reference server built from the 1.0.0 snapshot serves that document and its behaviour:
// what 1.0.0 does not document (current_password, name patterns, quotas) it neither takes nor
// enforces.

const V1 = resolveContract('1.0.0');
const v1 = parseContract(JSON.parse(readFileSync(V1, 'utf8')) as Record<string, unknown>);

describe('the reference server built from contract 1.0.0', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference({ contractPath: V1 });
  });
  afterAll(async () => {
    await ref?.close();
  });
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${ref.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('publishes 1.0.0, refuses 2.0.0-only current_password with 422 and takes a control character in a name', async () => {
    const served = (await (await fetch(`${ref.url}/openapi.json`)).json()) as { info: { version: string } };
    expect(served.info.version).toBe('1.0.0');
    const email = `v1-${Date.now()}@example.com`;
    const password = 'a-Strong-password-for-1.0.0';
    const created = await post('/auth/register', { email, password, full_name: 'Jane\u0001Doe' });
    expect(created.status).toBe(201);
    const login = await post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    const key = await post('/users/me/api-keys', { name: 'k', current_password: password }, login.body['access_token']);
    expect(key.status).toBe(422);
    expect(key.body['code']).toBe('validation_failed');
    expect((await post('/users/me/api-keys', { name: 'k' }, login.body['access_token'])).status).toBe(201);
  });

  it('enforces no quota where the contract documents no x-quota', async () => {
    const owned = { count: async () => [{ n: 1_000_000 }] } as never;
    await expect(enforceQuota(v1, 'createApiKey', owned, 'API keys')).resolves.toBeUndefined();
  });
});
