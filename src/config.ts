import { loadDevSecrets } from './dev-secrets.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type DatabaseConfig =
  | { client: 'sqlite'; filename: string } // ':memory:' or a path
  | { client: 'pg'; connectionString: string };

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  /** Raw DATABASE_URL, for messages; may contain a password, so never log it. */
  databaseUrl: string;
  jwtSecret: string;
  dataEncryptionKey: Buffer;
  accessTokenTtlSeconds: number;
  publicUrl: string;
  trustProxy: boolean;
  clientIpHeader: string;
  logLevel: LogLevel;
  nodeEnv: 'production' | 'development' | 'test';
  scryptLogN: number;
  smtpUrl: string | undefined;
  mailFrom: string;
  mailOutboxDir: string;
  harnessToken: string | undefined;
  rateLimitStore: 'memory' | 'database';
  /** Validate every response against the contract and throw on mismatch (on in tests). */
  validateResponses: boolean;
  /**
   * Bench-only: multiplies every contract limit (never read from the environment, only set
   * programmatically by scripts/bench.ts so that the limiter still runs at full cost).
   */
  rateLimitMultiplier: number;
  /** Issue 9: seconds between purges of expired rows (0: never; `npm run admin -- purge` still works). */
  purgeIntervalSeconds: number;
  /** Issue 9: most budgets the memory rate-limit store keeps before evicting (expired first, then oldest windows). */
  rateLimitMemoryMaxKeys: number;
}

/** The message says which variable is wrong and how to fix it. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^[0-9]+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  };

  const nodeEnv = oneOf('NODE_ENV', ['production', 'development', 'test'] as const, 'development');
  const port = int('PORT', 3000, 0, 65535);
  const host = get('HOST') ?? '127.0.0.1';
  const databaseUrl = get('DATABASE_URL') ?? 'sqlite:data/quazzar.sqlite';
  const database = parseDatabaseUrl(databaseUrl, problems);
  const accessTokenTtlSeconds = int('ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86_400);
  const publicUrl = parsePublicUrl(get('PUBLIC_URL') ?? `http://localhost:${port}`, problems);
  const trustProxy = bool('TRUST_PROXY', false);
  const clientIpHeader = (get('CLIENT_IP_HEADER') ?? 'x-forwarded-for').toLowerCase();
  if (!/^[a-z0-9-]+$/.test(clientIpHeader)) problems.push(`CLIENT_IP_HEADER must be a header name (got "${clientIpHeader}")`);
  const logLevel = oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info');
  const scryptLogN = int('SCRYPT_LOG_N', 15, 10, 20);
  const smtpUrl = get('SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must start with smtp:// or smtps://');
  const mailFrom = get('MAIL_FROM') ?? 'Quazzar Space <no-reply@app.quazzar.space>';
  const mailOutboxDir = get('MAIL_OUTBOX_DIR') ?? 'data/outbox';
  const harnessToken = get('HARNESS_TOKEN');
  if (harnessToken !== undefined && harnessToken.length < 16) problems.push('HARNESS_TOKEN must be at least 16 characters (or unset, which disables /__harness)');
  const rateLimitStore = oneOf('RATE_LIMIT_STORE', ['memory', 'database'] as const, database.client === 'pg' ? 'database' : 'memory');
  const validateResponses = bool('VALIDATE_RESPONSES', false);

  let jwtSecret = get('JWT_SECRET');
  let dataKeyRaw = get('DATA_ENCRYPTION_KEY');
  if (jwtSecret === undefined || dataKeyRaw === undefined) {
    if (nodeEnv === 'production') {
      if (jwtSecret === undefined) problems.push('JWT_SECRET is required when NODE_ENV=production (at least 32 bytes, e.g. `openssl rand -base64 48`)');
      if (dataKeyRaw === undefined) problems.push('DATA_ENCRYPTION_KEY is required when NODE_ENV=production (32 bytes as hex or base64, e.g. `openssl rand -hex 32`)');
    } else if (problems.length === 0) {
      // Development convenience: generated once, kept in data/secrets.json (mode 0600).
      const dev = loadDevSecrets();
      jwtSecret ??= dev.jwtSecret;
      dataKeyRaw ??= dev.dataEncryptionKey;
    }
  }
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret, 'utf8') < 32) {
    problems.push('JWT_SECRET must be at least 32 bytes (256 bits), e.g. `openssl rand -base64 48`');
  }
  const dataEncryptionKey = dataKeyRaw === undefined ? undefined : parseDataKey(dataKeyRaw);
  if (dataKeyRaw !== undefined && dataEncryptionKey === undefined) {
    problems.push('DATA_ENCRYPTION_KEY must be 32 bytes written as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
  }

  // Issue 9: bounded growth.
  const purgeIntervalSeconds = int('PURGE_INTERVAL_SECONDS', 3600, 0, 86_400);
  const rateLimitMemoryMaxKeys = int('RATE_LIMIT_MEMORY_MAX_KEYS', 100_000, 1000, 10_000_000);

  if (problems.length > 0 || jwtSecret === undefined || dataEncryptionKey === undefined) throw new ConfigError(problems);
  return {
    port, host, database, databaseUrl, jwtSecret, dataEncryptionKey, accessTokenTtlSeconds, publicUrl,
    trustProxy, clientIpHeader, logLevel, nodeEnv, scryptLogN, smtpUrl, mailFrom, mailOutboxDir,
    harnessToken, rateLimitStore, validateResponses, rateLimitMultiplier: 1,
    purgeIntervalSeconds, rateLimitMemoryMaxKeys,
  };
}

function parseDatabaseUrl(url: string, problems: string[]): DatabaseConfig {
  if (url === 'sqlite::memory:') return { client: 'sqlite', filename: ':memory:' };
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (filename !== '') return { client: 'sqlite', filename };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { client: 'pg', connectionString: url };
  problems.push('DATABASE_URL must be sqlite:<file path>, sqlite::memory: or postgres://user:password@host:port/database');
  return { client: 'sqlite', filename: ':memory:' };
}

function parsePublicUrl(raw: string, problems: string[]): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    problems.push(`PUBLIC_URL must be an absolute http(s) URL such as https://app.quazzar.space (got "${raw}")`);
    return 'http://localhost';
  }
}

function parseDataKey(raw: string): Buffer | undefined {
  const s = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
    const key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}
