import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { loadDevSecrets } from './dev-secrets.ts';

const secrets = {
  JWT_SECRET: 'x'.repeat(32),
  DATA_ENCRYPTION_KEY: 'ab'.repeat(32),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults', () => {
    const c = loadConfig({ ...secrets });
    expect(c).toMatchObject({
      port: 3000, host: '127.0.0.1', database: { client: 'sqlite', filename: 'data/quazzar.sqlite' },
      accessTokenTtlSeconds: 3600, publicUrl: 'http://localhost:3000', trustProxy: false, clientIpHeader: 'x-forwarded-for',
      logLevel: 'info', nodeEnv: 'development', scryptLogN: 15, mailOutboxDir: 'data/outbox', harnessToken: undefined,
      rateLimitStore: 'memory', validateResponses: false, rateLimitMultiplier: 1,
      purgeIntervalSeconds: 3600, rateLimitMemoryMaxKeys: 100_000,
    });
    expect(c.dataEncryptionKey).toHaveLength(32);
  });

  it('PUBLIC_URL follows PORT; PostgreSQL selects the database limiter store', () => {
    expect(loadConfig({ ...secrets, PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    const pg = loadConfig({ ...secrets, DATABASE_URL: 'postgres://u:p@localhost:5432/q' });
    expect(pg.database).toEqual({ client: 'pg', connectionString: 'postgres://u:p@localhost:5432/q' });
    expect(pg.rateLimitStore).toBe('database');
    expect(loadConfig({ ...secrets, DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ client: 'sqlite', filename: ':memory:' });
  });

  it('accepts the data key as hex or base64', () => {
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ ...secrets, DATA_ENCRYPTION_KEY: b64 }).dataEncryptionKey).toEqual(Buffer.alloc(32, 7));
  });

  it('production refuses to start without secrets, and says how to make them', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.join('\n')).toMatch(/JWT_SECRET is required.*openssl/);
    expect(problems.join('\n')).toMatch(/DATA_ENCRYPTION_KEY is required/);
  });

  it('refuses short secrets, bad keys and bad values, listing every problem at once', () => {
    const problems = problemsOf({
      JWT_SECRET: 'short', DATA_ENCRYPTION_KEY: 'abcd', PORT: 'eighty', SCRYPT_LOG_N: '9', TRUST_PROXY: 'maybe',
      LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', PUBLIC_URL: 'ftp://x', HARNESS_TOKEN: 'short', SMTP_URL: 'http://x',
      ACCESS_TOKEN_TTL_SECONDS: '0', RATE_LIMIT_STORE: 'redis',
    });
    for (const name of ['JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'PORT', 'SCRYPT_LOG_N', 'TRUST_PROXY', 'LOG_LEVEL', 'DATABASE_URL', 'PUBLIC_URL', 'HARNESS_TOKEN', 'SMTP_URL', 'ACCESS_TOKEN_TTL_SECONDS', 'RATE_LIMIT_STORE']) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
    expect(problems.join('\n')).not.toContain('short"'); // secrets are not echoed
  });
});

describe('development secrets', () => {
  it('are generated once into a 0600 file and reused', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'secrets-')), 'data', 'secrets.json');
    const first = loadDevSecrets(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadDevSecrets(file)).toEqual(first);
    expect(Buffer.byteLength(first.jwtSecret)).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(readFileSync(file, 'utf8')).dataEncryptionKey).toMatch(/^[0-9a-f]{64}$/);
  });
});
