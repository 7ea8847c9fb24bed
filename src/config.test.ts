import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { problemsOf } from './test-support.ts';
import { loadDevSecrets } from './dev-secrets.ts';

const secrets = {
  JWT_SECRET: 'x'.repeat(32),
  DATA_ENCRYPTION_KEY: 'ab'.repeat(32),
};

describe('loadConfig', () => {
  it('defaults', () => {
    const c = loadConfig({ ...secrets });
    expect(c).toMatchObject({
      port: 3000, host: '127.0.0.1', database: { client: 'sqlite', filename: 'data/quazzar.sqlite' },
      accessTokenTtlSeconds: 3600, publicUrl: 'http://localhost:3000', trustProxy: false, clientIpHeader: 'x-forwarded-for',
      logLevel: 'info', nodeEnv: 'development', scryptLogN: 15, mailOutboxDir: 'data/outbox', harnessToken: undefined,
      rateLimitStore: 'memory', validateResponses: false, rateLimitMultiplier: 1, redisUrl: undefined,
      purgeIntervalSeconds: 3600, rateLimitMemoryMaxKeys: 100_000, rateLimitMemoryMaxAccountKeys: 100_000, rateLimitIpv6Prefix: 64,
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

  it('CONTRACT_VERSION serves a released snapshot; an unknown version is refused naming the released ones', () => {
    expect(loadConfig({ ...secrets }).contractPath).toBeUndefined();
    const v1 = loadConfig({ ...secrets, CONTRACT_VERSION: '1.0.0' });
    expect(v1.contractPath).toMatch(/openapi[\\/]releases[\\/]1\.0\.0\.json$/u);
    // 1.0.0 documents no 503 on login: requests wait for a hashing slot instead of being shed.
    expect(v1.hashQueueMax).toBe(10_000);
    expect(loadConfig({ ...secrets, CONTRACT_VERSION: 'v1.0.0', HASH_QUEUE_MAX: '5' }).hashQueueMax).toBe(5);
    expect(loadConfig({ ...secrets, CONTRACT_VERSION: '2.0.0' }).hashQueueMax).toBe(32);
    const [problem] = problemsOf({ ...secrets, CONTRACT_VERSION: '9.9.9' });
    expect(problem).toMatch(/^CONTRACT_VERSION must be a released contract version \(1\.0\.0, 2\.0\.0.*got "9\.9\.9"/u);
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
      ACCESS_TOKEN_TTL_SECONDS: '0', RATE_LIMIT_STORE: 'etcd',
    });
    for (const name of ['JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'PORT', 'SCRYPT_LOG_N', 'TRUST_PROXY', 'LOG_LEVEL', 'DATABASE_URL', 'PUBLIC_URL', 'HARNESS_TOKEN', 'SMTP_URL', 'ACCESS_TOKEN_TTL_SECONDS', 'RATE_LIMIT_STORE']) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
    expect(problems.join('\n')).not.toContain('short"'); // secrets are not echoed
  });

  it('RATE_LIMIT_MULTIPLIER: a positive integer for load tests, refused with NODE_ENV=production', () => {
    expect(loadConfig({ ...secrets, RATE_LIMIT_MULTIPLIER: '1000' }).rateLimitMultiplier).toBe(1000);
    for (const bad of ['0', '-1', '1.5', 'many']) {
      expect(problemsOf({ ...secrets, RATE_LIMIT_MULTIPLIER: bad }).some((p) => p.startsWith('RATE_LIMIT_MULTIPLIER'))).toBe(true);
    }
    const prod = problemsOf({ ...secrets, NODE_ENV: 'production', RATE_LIMIT_MULTIPLIER: '1000' });
    expect(prod.join('\n')).toMatch(/RATE_LIMIT_MULTIPLIER is for load tests only.*NODE_ENV=production/);
    expect(loadConfig({ ...secrets, NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', SMTP_URL: 'smtps://relay.example.com', RATE_LIMIT_MULTIPLIER: '1' }).rateLimitMultiplier).toBe(1);
  });

  it('HASH_CONCURRENCY stays below UV_THREADPOOL_SIZE; HASH_QUEUE_MAX is bounded', () => {
    const c = loadConfig({ ...secrets });
    expect(c.hashConcurrency).toBeGreaterThanOrEqual(1);
    expect(c.hashConcurrency).toBeLessThanOrEqual(3); // default pool of 4, one thread kept free
    expect(c.hashQueueMax).toBe(32);
    expect(loadConfig({ ...secrets, HASH_CONCURRENCY: '3', HASH_QUEUE_MAX: '0' })).toMatchObject({ hashConcurrency: 3, hashQueueMax: 0 });
    expect(problemsOf({ ...secrets, HASH_CONCURRENCY: '4' }).join('\n')).toMatch(/HASH_CONCURRENCY must stay below UV_THREADPOOL_SIZE \(4\)/);
    expect(loadConfig({ ...secrets, HASH_CONCURRENCY: '7', UV_THREADPOOL_SIZE: '8' }).hashConcurrency).toBe(7);
    expect(problemsOf({ ...secrets, HASH_CONCURRENCY: '0' }).some((p) => p.startsWith('HASH_CONCURRENCY'))).toBe(true);
    expect(problemsOf({ ...secrets, HASH_QUEUE_MAX: 'lots' }).some((p) => p.startsWith('HASH_QUEUE_MAX'))).toBe(true);
  });
});

describe('RATE_LIMIT_STORE=redis', () => {
  it('needs a well-formed REDIS_URL, and never echoes it', () => {
    expect(problemsOf({ ...secrets, RATE_LIMIT_STORE: 'redis' })).toEqual([expect.stringMatching(/^REDIS_URL is required with RATE_LIMIT_STORE=redis/)]);
    for (const bad of ['http://h:6379', 'redis://', 'not a url', 'redis://:s3cret-pw@h:6379/zero']) {
      const problems = problemsOf({ ...secrets, RATE_LIMIT_STORE: 'redis', REDIS_URL: bad });
      expect(problems).toEqual([expect.stringMatching(/^REDIS_URL must be redis:\/\//)]);
      expect(problems.join('\n')).not.toContain('s3cret-pw');
    }
    const ok = loadConfig({ ...secrets, RATE_LIMIT_STORE: 'redis', REDIS_URL: 'redis://:pw@127.0.0.1:6380/2' });
    expect(ok).toMatchObject({ rateLimitStore: 'redis', redisUrl: 'redis://:pw@127.0.0.1:6380/2' });
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
