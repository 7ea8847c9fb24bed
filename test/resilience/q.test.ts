import { it } from 'vitest';
import { buildTestApp, newSession } from '../helpers.ts';
it('q', async () => {
  const t = await buildTestApp({ usePostgres: true, env: { VALIDATE_RESPONSES: 'false', LOG_LEVEL: 'error' } });
  const { token } = await newSession(t);
  const r = await t.request('/auth/register', { json: { email: 'nul@example.com', password: 'secure-password-123', full_name: 'Jane\u0000D' } });
  console.log(r.status, JSON.stringify(r.body));
  const p = await t.request('/users/me', { method: 'PATCH', token, json: { full_name: 'a\u0000b', company_name: '\ud800' } });
  console.log(p.status, JSON.stringify(p.body));
  await t.close();
});
