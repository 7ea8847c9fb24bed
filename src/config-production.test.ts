import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMailSink } from '../conformance/lib/smtp-sink.ts';
import { ConfigError, loadConfig } from './config.ts';
import { problemsOf } from './test-support.ts';
import { loadDevSecrets } from './dev-secrets.ts';
import { SmtpMailer } from './mail/smtp-mailer.ts';

// Issue #10 defect 7: unsafe production defaults are refused or shouted about at start.

const prod = {
  NODE_ENV: 'production',
  JWT_SECRET: 'p'.repeat(48),
  DATA_ENCRYPTION_KEY: 'cd'.repeat(32),
  PUBLIC_URL: 'https://app.example.com',
  SMTP_URL: 'smtps://relay.example.com',
};

describe('production refusals', () => {
  it('a well-formed production configuration starts, without warnings', () => {
    expect(loadConfig(prod).warnings).toEqual([]);
  });

  it('HARNESS_TOKEN is refused with NODE_ENV=production', () => {
    expect(problemsOf({ ...prod, HARNESS_TOKEN: 'h'.repeat(24) }).join('\n')).toMatch(/^HARNESS_TOKEN .*production/m);
  });

  it('PUBLIC_URL must be https in production (and must be set)', () => {
    expect(problemsOf({ ...prod, PUBLIC_URL: 'http://app.example.com' }).join('\n')).toMatch(/^PUBLIC_URL .*https/m);
    const { PUBLIC_URL: _unset, ...withoutUrl } = prod;
    expect(problemsOf(withoutUrl).join('\n')).toMatch(/^PUBLIC_URL /m);
  });

  it('issue 20 item 14: production without SMTP_URL is refused, saying what to set', () => {
    const { SMTP_URL: _unset, ...withoutSmtp } = prod;
    const problems = problemsOf(withoutSmtp);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SMTP_URL is required when NODE_ENV=production .*MAIL_OUTBOX_IN_PRODUCTION=true/);
    expect(problems[0]).not.toContain('\n');
  });

  it('MAIL_OUTBOX_IN_PRODUCTION=true is the explicit opt-in to the outbox in production, and it is warned about', () => {
    const { SMTP_URL: _unset, ...withoutSmtp } = prod;
    const config = loadConfig({ ...withoutSmtp, MAIL_OUTBOX_IN_PRODUCTION: 'true' });
    expect(config.smtpUrl).toBeUndefined();
    expect(config.warnings.join('\n')).toMatch(/MAIL_OUTBOX_IN_PRODUCTION=true.*data\/outbox/);
    expect(problemsOf({ ...withoutSmtp, MAIL_OUTBOX_IN_PRODUCTION: 'maybe' }).join('\n')).toMatch(/^MAIL_OUTBOX_IN_PRODUCTION must be true or false/m);
    expect(problemsOf({ ...withoutSmtp, MAIL_OUTBOX_IN_PRODUCTION: 'false' }).join('\n')).toMatch(/^SMTP_URL is required/m);
    // With SMTP_URL set the opt-in changes nothing and warns about nothing.
    expect(loadConfig({ ...prod, MAIL_OUTBOX_IN_PRODUCTION: 'true' }).warnings).toEqual([]);
  });

  it('outside production the outbox stays the default without SMTP_URL', () => {
    const { SMTP_URL: _unset, ...withoutSmtp } = prod;
    expect(loadConfig({ ...withoutSmtp, NODE_ENV: 'development' }).smtpUrl).toBeUndefined();
  });

  it('STARTUP_TIMEOUT_SECONDS bounds the wait for dependencies at start (default 10 s)', () => {
    expect(loadConfig(prod).startupTimeoutSeconds).toBe(10);
    expect(loadConfig({ ...prod, STARTUP_TIMEOUT_SECONDS: '30' }).startupTimeoutSeconds).toBe(30);
    expect(problemsOf({ ...prod, STARTUP_TIMEOUT_SECONDS: '0' }).join('\n')).toMatch(/^STARTUP_TIMEOUT_SECONDS must be an integer from 1 to 600/m);
  });

  it('SMTP_REQUIRED_AT_START: an unreachable relay stops the start in production by default, not elsewhere', () => {
    expect(loadConfig(prod).smtpRequiredAtStart).toBe(true);
    expect(loadConfig({ ...prod, SMTP_REQUIRED_AT_START: 'false' }).smtpRequiredAtStart).toBe(false);
    expect(loadConfig({ ...prod, NODE_ENV: 'development' }).smtpRequiredAtStart).toBe(false);
    expect(loadConfig({ ...prod, NODE_ENV: 'development', SMTP_REQUIRED_AT_START: 'true' }).smtpRequiredAtStart).toBe(true);
  });

  it('a missing NODE_ENV is a loud warning (development secrets, outbox, http://localhost links)', () => {
    const { NODE_ENV: _unset, ...env } = prod;
    const warnings = loadConfig(env).warnings;
    expect(warnings.join('\n')).toMatch(/NODE_ENV is not set/);
    expect(loadConfig({ ...env, NODE_ENV: 'development' }).warnings).toEqual([]);
  });

  it('smtp:// to a non-loopback host requires STARTTLS unless SMTP_ALLOW_PLAINTEXT=true', () => {
    expect(loadConfig({ ...prod, SMTP_URL: 'smtp://mail.example.com:587' }).smtpRequireTls).toBe(true);
    expect(loadConfig({ ...prod, SMTP_URL: 'smtp://127.0.0.1:2525' }).smtpRequireTls).toBe(false);
    expect(loadConfig({ ...prod, SMTP_URL: 'smtps://mail.example.com' }).smtpRequireTls).toBe(false);
    expect(loadConfig({ ...prod, SMTP_URL: 'smtp://mail.example.com:587', SMTP_ALLOW_PLAINTEXT: 'true' }).smtpRequireTls).toBe(false);
  });

  it('a mailer that requires STARTTLS does not send to a server without it', async () => {
    const sink = await startMailSink({ host: '127.0.0.1', port: 0 });
    const mailer = new SmtpMailer(`smtp://127.0.0.1:${sink.port}`, 'a@example.com', true);
    try {
      await expect(mailer.send({ to: 'b@example.com', subject: 's', text: 't' })).rejects.toThrow(/STARTTLS/i);
    } finally {
      await mailer.close();
      await sink.close();
    }
  });

  it('an existing data/secrets.json readable by others is refused, saying how to fix it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-perm-'));
    const file = path.join(dir, 'data', 'secrets.json');
    mkdirSync(path.dirname(file));
    writeFileSync(file, JSON.stringify({ jwtSecret: 'j'.repeat(48), dataEncryptionKey: 'ab'.repeat(32) }));
    chmodSync(file, 0o644);
    expect(() => loadDevSecrets(file)).toThrow(/chmod 600/);
    chmodSync(file, 0o600);
    expect(loadDevSecrets(file).jwtSecret).toBe('j'.repeat(48));
  });
});
