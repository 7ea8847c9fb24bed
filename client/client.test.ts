// The typed client against the in-process reference server (test/helpers.ts): every flow the
// client makes easy, and the error, rate-limit and retry information it exposes.
import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from '../test/helpers.ts';
import { createQuazzarClient, fieldError, resetTokenFromLink, type QuazzarClient } from './index.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

const client = (over: Partial<Parameters<typeof createQuazzarClient>[0]> = {}) => createQuazzarClient({ baseUrl: t.baseUrl, ...over });
const codeNow = (secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });
const recentWindowMs = () => Number(t.deps.contract.document['x-recent-authentication'].max_age_seconds) * 1000;

async function signedIn(): Promise<{ qz: QuazzarClient; email: string }> {
  const qz = client();
  const email = uniqueEmail('client');
  const reg = await qz.register({ email, password: STRONG_PASSWORD, full_name: 'Client Tester' });
  expect(reg.ok).toBe(true);
  const login = await qz.login({ email, password: STRONG_PASSWORD });
  expect(login.kind).toBe('signed_in');
  return { qz, email };
}

describe('typed client against the reference server', () => {
  it('registers, logs in and sends the session token from then on', async () => {
    const qz = client();
    expect(qz.credentialKind).toBeUndefined();
    const anonymous = await qz.getCurrentUser();
    expect(anonymous.ok).toBe(false);
    if (!anonymous.ok) expect(anonymous.error.code).toBe('authentication_required');

    const email = uniqueEmail('client');
    const reg = await qz.register({ email, password: STRONG_PASSWORD, full_name: 'Jane Client', company_name: 'Acme' });
    if (!reg.ok) throw new Error(reg.error.detail);
    expect(reg.status).toBe(201);
    expect(reg.data.email).toBe(email);

    const login = await qz.login({ email, password: STRONG_PASSWORD });
    if (login.kind !== 'signed_in') throw new Error(login.error.code);
    expect(login.data.user.email).toBe(email);
    expect(qz.credentialKind).toBe('session');

    const me = await qz.getCurrentUser();
    if (!me.ok) throw new Error(me.error.code);
    expect(me.data.full_name).toBe('Jane Client');
    expect(me.data.company_name).toBe('Acme');
  });

  it('tells a wrong password, an unknown address and a taken address apart by code', async () => {
    const { email } = await signedIn();
    const qz = client();
    const wrong = await qz.login({ email, password: 'not-the-password-123' });
    expect(wrong.kind).toBe('failed');
    if (wrong.kind === 'failed') {
      expect(wrong.error.code).toBe('invalid_credentials');
      expect(wrong.status).toBe(401);
      expect(wrong.error.problem?.type).toMatch(/invalid_credentials$/u);
    }
    expect(qz.credentialKind).toBeUndefined();
    const taken = await qz.register({ email, password: STRONG_PASSWORD, full_name: 'Twin' });
    expect(taken.ok ? undefined : taken.error.code).toBe('email_taken');
  });

  it('exposes the field errors of validation_failed and weak_password', async () => {
    const qz = client();
    const bad = await qz.register({ email: 'not-an-address', password: 'short', full_name: 'X' });
    if (bad.ok) throw new Error('accepted');
    expect(bad.status).toBe(422);
    expect(bad.error.code).toBe('validation_failed');
    const pointers = bad.error.errors.map((e) => e.pointer);
    expect(pointers).toContain('/email');
    expect(fieldError(bad.error, '/email')).toEqual(expect.any(String));
    expect(fieldError(bad.error, '/full_name')).toBeUndefined();
  });

  it('reads the rate-limit headers into every result, and 429 with Retry-After', async () => {
    const { qz } = await signedIn();
    const me = await qz.getCurrentUser();
    expect(me.rateLimit.policies).toEqual([{ name: 'authenticated', quota: 120, windowSeconds: 60 }]);
    expect(me.rateLimit.limits).toHaveLength(1);
    expect(me.rateLimit.remaining).toBeGreaterThanOrEqual(0);
    expect(me.rateLimit.remaining).toBeLessThan(120);
    expect(me.rateLimit.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(me.rateLimit.retryAfterSeconds).toBeUndefined();

    const anonymous = client();
    let last = await anonymous.login({ email: uniqueEmail(), password: STRONG_PASSWORD });
    for (let i = 0; i < 20 && last.status !== 429; i++) last = await anonymous.login({ email: uniqueEmail(), password: STRONG_PASSWORD });
    expect(last.status).toBe(429);
    expect(last.kind).toBe('failed');
    if (last.kind === 'failed') expect(last.error.code).toBe('rate_limited');
    expect(last.rateLimit.remaining).toBe(0);
    expect(last.rateLimit.policies[0]?.name).toBe('login');
    expect(last.rateLimit.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('retries an idempotent call after Retry-After with the injected sleep (which moves the server clock)', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      t.clock.advance(ms);
    };
    const qz = client({ retry: { attempts: 2, maxWaitSeconds: 120, sleep } });
    // Spend the health budget (policy `health`, per client IP) without the client.
    const policy = (await qz.getHealth()).rateLimit.policies[0]!;
    for (let i = 1; i < policy.quota!; i++) await t.request('/health');
    const health = await qz.getHealth();
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(1000);
    expect(health.ok).toBe(true);
    expect(health.status).toBe(200);

    // Not retried: a POST (not idempotent), even with a Retry-After.
    const post = client({ retry: { sleep } });
    let login = await post.login({ email: uniqueEmail(), password: STRONG_PASSWORD });
    for (let i = 0; i < 20 && login.status !== 429; i++) login = await post.login({ email: uniqueEmail(), password: STRONG_PASSWORD });
    expect(login.status).toBe(429);
    expect(slept).toHaveLength(1);
  });

  it('login tells "TOTP code needed" apart from failure; enrolment gives the backup codes', async () => {
    const { qz, email } = await signedIn();
    const enrolment = await qz.startTotpEnrolment();
    if (!enrolment.ok) throw new Error(enrolment.error.code);
    expect(enrolment.data.qr_code).toMatch(/^data:image\/png;base64,/u);
    expect(enrolment.data.uri).toContain(enrolment.data.secret);
    const wrong = await enrolment.verify('000000');
    expect(wrong.ok ? undefined : wrong.error.code).toBe('invalid_totp_code');
    const verified = await enrolment.verify(await codeNow(enrolment.data.secret));
    if (!verified.ok) throw new Error(verified.error.code);
    expect(verified.data.backup_codes).toHaveLength(5);

    const other = client();
    const first = await other.login({ email, password: STRONG_PASSWORD });
    if (first.kind !== 'totp_required') throw new Error(`expected totp_required, got ${first.kind}`);
    expect(first.error.code).toBe('totp_required');
    expect(other.credentialKind).toBeUndefined();
    t.clock.advance(30_000); // a fresh time step: each step is accepted once
    const bad = await first.withTotpCode('123456');
    expect(bad.kind).toBe('failed');
    if (bad.kind === 'failed') expect(bad.error.code).toBe('invalid_totp_code');
    const second = await first.withTotpCode(await codeNow(enrolment.data.secret));
    expect(second.kind).toBe('signed_in');
    expect(other.credentialKind).toBe('session');

    const backup = client();
    const needsCode = await backup.login({ email, password: STRONG_PASSWORD });
    if (needsCode.kind !== 'totp_required') throw new Error(needsCode.kind);
    expect((await needsCode.withTotpCode(verified.data.backup_codes[0]!)).kind).toBe('signed_in');
  });

  it('reauthentication_required is its own case, retried with the password', async () => {
    const { qz } = await signedIn();
    t.clock.advance(recentWindowMs() + 1000);
    const refused = await qz.createApiKey({ name: 'ci', project_ids: [] });
    if (refused.ok || !refused.reauthenticationRequired) throw new Error('expected reauthentication_required');
    expect(refused.status).toBe(403);
    expect(refused.error.code).toBe('reauthentication_required');
    const wrong = await refused.retryWithPassword('not-the-password-123');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) {
      expect(wrong.reauthenticationRequired).toBe(false);
      expect(wrong.error.code).toBe('invalid_current_password');
    }
    const created = await refused.retryWithPassword(STRONG_PASSWORD);
    if (!created.ok) throw new Error(created.error.code);
    expect(created.data.key).toMatch(/^qzk_/u);
    expect(created.data.name).toBe('ci');
  });

  it('creates an API key scoped to a project and uses it: 200 inside its scope, 403 outside, 401 once revoked', async () => {
    const { qz } = await signedIn();
    const inside = await qz.createProject({ name: 'inside' });
    const outside = await qz.createProject({ name: 'outside' });
    if (!inside.ok || !outside.ok) throw new Error('projects');
    const created = await qz.createApiKey({ name: 'deploy', project_ids: [inside.data.id] });
    if (!created.ok) throw new Error(created.error.code);

    const listed = await qz.listApiKeys();
    expect(listed.ok && listed.data.api_keys.map((k) => k.prefix)).toEqual([created.data.prefix]);

    const bot = client({ credential: { apiKey: created.data.key } });
    expect(bot.credentialKind).toBe('api_key');
    const ok = await bot.getProject(inside.data.id);
    expect(ok.ok && ok.data.name).toBe('inside');
    const denied = await bot.getProject(outside.data.id);
    expect(denied.ok ? undefined : denied.error.code).toBe('insufficient_scope');
    const sessionOnly = await bot.listApiKeys();
    expect(sessionOnly.ok ? undefined : sessionOnly.error.code).toBe('session_required');

    const revoked = await qz.revokeApiKey(created.data.id);
    expect(revoked.status).toBe(204);
    const after = await bot.getProject(inside.data.id);
    expect(after.ok ? undefined : after.error.code).toBe('invalid_token');
    expect(bot.credentialKind).toBe('api_key'); // an API key is not a session: kept, the caller decides
    const again = await qz.revokeApiKey(created.data.id);
    expect(again.ok ? undefined : again.error.code).toBe('api_key_not_found');
  });

  it('an ended session calls onSessionEnded and forgets the token; logout clears it', async () => {
    const ended: string[] = [];
    const qz = client({ onSessionEnded: (e) => ended.push(e.code) });
    const email = uniqueEmail('client');
    await qz.register({ email, password: STRONG_PASSWORD, full_name: 'Session Ender' });
    const login = await qz.login({ email, password: STRONG_PASSWORD });
    if (login.kind !== 'signed_in') throw new Error(login.kind);
    // Log the same session out from elsewhere: the next call learns it ended.
    const elsewhere = client({ credential: { sessionToken: login.data.access_token } });
    expect((await elsewhere.logout()).ok).toBe(true);
    expect(elsewhere.credentialKind).toBeUndefined();
    const me = await qz.getCurrentUser();
    expect(me.ok ? undefined : me.error.code).toBe('invalid_token');
    expect(ended).toEqual(['invalid_token']);
    expect(qz.credentialKind).toBeUndefined();
  });

  it('confirms a password reset with the token of the e-mailed link', async () => {
    const { email } = await signedIn();
    const qz = client();
    const requested = await qz.requestPasswordReset({ email });
    expect(requested.ok).toBe(true);
    const mail = await t.mailer.waitFor(email); // sent after the answer
    const link = /(http\S+\/reset-password\S+)/u.exec(mail.text)?.[1];
    expect(link).toBeDefined();
    const token = resetTokenFromLink(link!);
    expect(token).toEqual(expect.any(String));
    const bad = await qz.confirmPasswordReset({ token: 'x'.repeat(43), new_password: 'another-password-456' });
    expect(bad.ok ? undefined : bad.error.code).toBe('invalid_reset_token');
    const done = await qz.confirmPasswordReset({ token: token!, new_password: 'another-password-456' });
    expect(done.ok).toBe(true);
    expect((await qz.login({ email, password: 'another-password-456' })).kind).toBe('signed_in');
  });

  it('sends the credential as an Authorization header set once, never in the URL', async () => {
    const seen: Request[] = [];
    const recording = (request: Request) => {
      seen.push(request.clone());
      return fetch(request);
    };
    const qz = client({ fetch: recording });
    const email = uniqueEmail('client');
    await qz.register({ email, password: STRONG_PASSWORD, full_name: 'Header Only' });
    const login = await qz.login({ email, password: STRONG_PASSWORD });
    if (login.kind !== 'signed_in') throw new Error(login.kind);
    const token = login.data.access_token;
    await qz.getCurrentUser();
    await qz.listProjects();
    const authed = seen.slice(2);
    expect(authed).toHaveLength(2);
    for (const r of authed) expect(r.headers.get('authorization')).toBe(`Bearer ${token}`);
    for (const r of seen) expect(r.url).not.toContain(token.slice(-20));
    qz.setCredential({ apiKey: 'qzk_not-a-real-key' });
    await qz.getCurrentUser();
    expect(seen.at(-1)!.headers.get('authorization')).toBe('Bearer qzk_not-a-real-key');
    qz.setCredential(undefined);
    await qz.getHealth();
    expect(seen.at(-1)!.headers.has('authorization')).toBe(false);
  });

  it('has a helper named by the operationId of every operation of the contract', () => {
    const qz = client();
    const operationIds = Object.values(t.deps.contract.document.paths as Record<string, Record<string, { operationId?: string }>>)
      .flatMap((item) => Object.values(item).map((op) => op?.operationId))
      .filter((id): id is string => typeof id === 'string');
    expect(operationIds.length).toBeGreaterThan(10);
    const missing = operationIds.filter((id) => typeof (qz as Record<string, unknown>)[id] !== 'function');
    expect(missing, 'add a helper in client/index.ts (one line: call(api.METHOD(path, …)))').toEqual([]);
  });

  it('reports no answer as network_error, never as a throw', async () => {
    const qz = createQuazzarClient({ baseUrl: 'http://127.0.0.1:9', fetch: () => Promise.reject(new TypeError('fetch failed')) });
    const r = await qz.getHealth();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('network_error');
      expect(r.status).toBe(0);
      expect(r.response).toBeUndefined();
    }
  });
});
