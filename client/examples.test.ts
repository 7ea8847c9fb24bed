// The README's client examples are client/examples/*.ts as they are (with the package name in
// place of the relative import), and they work against the reference server.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/pack-helpers.ts';
import { buildTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from '../test/helpers.ts';
import { createDeployKey, projectName } from './examples/api-keys.ts';
import { finishReset } from './examples/password-reset.ts';
import { explain, signIn } from './examples/sign-in.ts';
import { enableTwoFactor } from './examples/two-factor.ts';
import { createQuazzarClient } from './index.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());

const codeNow = (secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });
const never = () => Promise.reject(new Error('not asked for'));

describe('README: For API consumers: the typed client', () => {
  it('shows every example file exactly as it is', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## For API consumers: the typed client');
    expect(start).toBeGreaterThan(-1);
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end === -1 ? undefined : end);
    const shown = new Map([...section.matchAll(/```ts\n\/\/ (client\/examples\/[\w-]+\.ts)\n([\s\S]*?)```/gu)].map((m) => [m[1]!, m[2]!]));
    const files = readdirSync(join(ROOT, 'client/examples')).filter((f) => f.endsWith('.ts')).map((f) => `client/examples/${f}`);
    expect([...shown.keys()].sort()).toEqual(files.sort());
    for (const file of files) {
      const source = readFileSync(join(ROOT, file), 'utf8').replaceAll("'../index.ts'", "'quazzar-client'");
      expect(shown.get(file), `${file} as the README shows it`).toBe(source);
    }
  });
});

describe('the examples against the reference server', () => {
  it('sign in, two-factor, a deploy key used from CI, sign in with a code, reset', async () => {
    const email = uniqueEmail('example');
    const register = await createQuazzarClient({ baseUrl: t.baseUrl }).register({ email, password: STRONG_PASSWORD, full_name: 'Example' });
    expect(register.ok).toBe(true);

    const qz = await signIn(t.baseUrl, email, STRONG_PASSWORD, never);
    let secret = '';
    const backupCodes = await enableTwoFactor(
      qz,
      async (qr, s) => {
        expect(qr).toMatch(/^data:image\/png;base64,/u);
        secret = s;
        return codeNow(s);
      },
      never,
    );
    expect(backupCodes).toHaveLength(5);

    const project = await qz.createProject({ name: 'site' });
    const other = await qz.createProject({ name: 'other' });
    if (!project.ok || !other.ok) throw new Error('projects');
    // An old login: the key needs the password.
    t.clock.advance(Number(t.deps.contract.document['x-recent-authentication'].max_age_seconds) * 1000 + 1000);
    let asked = 0;
    const key = await createDeployKey(qz, project.data.id, async () => {
      asked += 1;
      return STRONG_PASSWORD;
    });
    expect(asked).toBe(1);
    expect(await projectName(t.baseUrl, key, project.data.id)).toBe('site');
    await expect(projectName(t.baseUrl, key, other.data.id)).rejects.toThrow(/may not read project/u);

    t.clock.advance(30_000);
    const withCode = await signIn(t.baseUrl, email, STRONG_PASSWORD, () => codeNow(secret));
    expect(withCode.credentialKind).toBe('session');
    await expect(signIn(t.baseUrl, email, 'not-the-password-123', never)).rejects.toThrow('Wrong e-mail or password.');

    expect((await qz.requestPasswordReset({ email })).ok).toBe(true);
    const mail = await t.mailer.waitFor(email);
    const link = /(http\S+\/reset-password\S+)/u.exec(mail.text)![1]!;
    await finishReset(t.baseUrl, link, 'a-brand-new-password-1');
    await expect(finishReset(t.baseUrl, link, 'a-brand-new-password-2')).rejects.toThrow(/expired/u);
  });

  it('explain() shows field errors and the wait of a 429', async () => {
    const anonymous = createQuazzarClient({ baseUrl: t.baseUrl });
    const bad = await anonymous.register({ email: 'nope', password: STRONG_PASSWORD, full_name: 'X' });
    if (bad.ok) throw new Error('accepted');
    expect(explain(bad)).toMatch(/^\/email: /u);
    let last = await anonymous.login({ email: uniqueEmail(), password: STRONG_PASSWORD });
    for (let i = 0; i < 20 && last.status !== 429; i++) last = await anonymous.login({ email: uniqueEmail(), password: STRONG_PASSWORD });
    if (last.kind !== 'failed') throw new Error(last.kind);
    expect(explain(last)).toMatch(/^Too many attempts: try again in \d+ s\.$/u);
  });
});
