import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, type TestApp } from '../../test/helpers.ts';
import { createMailer } from '../mail/create-mailer.ts';
import { startMailSink, type SmtpSink } from '../../conformance/lib/smtp-sink.ts';

// The whole path a user takes: request → real SMTP (a local sink) → link from PUBLIC_URL → page → confirm.
let sink: SmtpSink;
let t: TestApp;

beforeAll(async () => {
  sink = await startMailSink({ host: '127.0.0.1', port: 0 });
  t = await buildTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Quazzar <no-reply@quazzar.test>' } });
  // buildTestApp injects a memory mailer; this test wants the configured (SMTP) one.
  t.deps.mailer = createMailer(t.deps.config, t.deps.log);
});
afterAll(async () => {
  await t.close(); // closes deps.mailer, i.e. the SMTP pool
  await sink.close();
});

describe('password reset mail over SMTP', () => {
  it('arrives at the sink with a working link built from PUBLIC_URL', async () => {
    // PUBLIC_URL points at this test server, so the link in the mail is directly followable.
    t.deps.config.publicUrl = t.baseUrl;
    const user = await registerUser(t);
    expect((await t.request('/auth/password-reset/request', { json: { email: user.email } })).status).toBe(200);

    const mail = await sink.waitForMail(user.email);
    expect(mail.from).toBe('no-reply@quazzar.test');
    expect(mail.subject).toMatch(/reset/i);
    const link = /(http\S+\/reset-password\?token=[A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
    expect(link?.startsWith(`${t.baseUrl}/reset-password?token=`)).toBe(true);
    expect(String(mail.html)).toContain(link!.replace(/&/g, '&amp;'));

    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('/confirm');

    const token = new URL(link!).searchParams.get('token')!;
    const confirmed = await t.request('/auth/password-reset/confirm', { json: { token, new_password: 'smtp-delivered-passphrase-9' } });
    expect(confirmed.status).toBe(200);
    const login = await t.request('/auth/login', { json: { email: user.email, password: 'smtp-delivered-passphrase-9' } });
    expect(login.status).toBe(200);
  });
});
