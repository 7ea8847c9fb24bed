import { loadDevSecrets } from './dev-secrets.ts';
import type { ConnectionCaps } from './http/connection-caps.ts';
import { parseProxyTrust, type ProxyTrust } from './http/proxy-trust.ts';
import { defaultHashConcurrency, threadPoolSize } from './hashing/index.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { fromRoot } from './project-root.ts';

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
  rateLimitStore: 'memory' | 'database' | 'redis';
  /** Validate every response against the contract and throw on mismatch (on in tests). */
  validateResponses: boolean;
  /**
   * Load tests only (RATE_LIMIT_MULTIPLIER, refused with NODE_ENV=production): multiplies every
   * contract limit; the limiter still runs on every request, so a load test measures the 200 path.
   */
  rateLimitMultiplier: number;
  /** REDIS_URL (redis:// or rediss://), required with RATE_LIMIT_STORE=redis; may hold a password: never log it. */
  redisUrl: string | undefined;
  /** TRUST_PROXY parsed (issue #10): no proxy, a hop count, or the proxies' addresses. `trustProxy` = not none. */
  proxyTrust: ProxyTrust;
  /** smtp:// to a non-loopback host must upgrade with STARTTLS (SMTP_ALLOW_PLAINTEXT=true opts out). */
  smtpRequireTls: boolean;
  /** Not fatal but dangerous (e.g. NODE_ENV unset): printed loudly at start by src/server.ts. */
  warnings: string[];
  /** At most this many scrypt operations at once in this process (src/hashing/). */
  hashConcurrency: number;
  /** Password hashes allowed to wait for a slot; one more is answered 503 with Retry-After. */
  hashQueueMax: number;
  /** CONTRACT_VERSION: the released snapshot served and enforced instead of generated/openapi.json. */
  contractPath?: string;
  /** Issue 9: seconds between purges of expired rows (0: never; `npm run admin -- purge` still works). */
  purgeIntervalSeconds: number;
  /** Issue 9/17: most client-keyed (IP, token) budgets the memory store holds; beyond, new keys share an overflow budget. */
  rateLimitMemoryMaxKeys: number;
  /**
   * Issue 20: seconds the server waits at start for each dependency (database, Redis, SMTP
   * relay) before it exits with the cause (STARTUP_TIMEOUT_SECONDS, default 10).
   */
  startupTimeoutSeconds: number;
  /**
   * SMTP_REQUIRED_AT_START (default: true with NODE_ENV=production): a relay that cannot be
   * reached within the start-up wait stops the start; false: a warning, and the server starts
   * (e.g. the conformance suite's mail sink, which only listens while the suite runs).
   */
  smtpRequiredAtStart: boolean;
  /** MAIL_OUTBOX_IN_PRODUCTION=true: the explicit opt-in to the file outbox with NODE_ENV=production (warned at start). */
  mailOutboxInProduction: boolean;
  /** Issue 17: connections, header/request timeouts and slow readers (src/http/connection-caps.ts). */
  connectionCaps: ConnectionCaps;
  /** Issue 17: most account-keyed budgets (login failures, reset recipient) the memory store holds, apart from the client ones. */
  rateLimitMemoryMaxAccountKeys: number;
  /** Issue 17: per-IP budgets key an IPv6 client by this prefix (RATE_LIMIT_IPV6_PREFIX, default 64). */
  rateLimitIpv6Prefix: number;
  /** Issue 18: serve the dashboard under /dashboard/ (and redirect / to it); DASHBOARD=false for an API-only deployment. */
  dashboard: boolean;
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
  const proxyTrust = parseProxyTrust(get('TRUST_PROXY'), problems);
  const trustProxy = proxyTrust.kind !== 'none';
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
  const rateLimitStore = oneOf('RATE_LIMIT_STORE', ['memory', 'database', 'redis'] as const, database.client === 'pg' ? 'database' : 'memory');
  const validateResponses = bool('VALIDATE_RESPONSES', false);

  let jwtSecret = get('JWT_SECRET');
  let dataKeyRaw = get('DATA_ENCRYPTION_KEY');
  if (jwtSecret === undefined || dataKeyRaw === undefined) {
    if (nodeEnv === 'production') {
      if (jwtSecret === undefined) problems.push('JWT_SECRET is required when NODE_ENV=production (at least 32 bytes, e.g. `openssl rand -base64 48`)');
      if (dataKeyRaw === undefined) problems.push('DATA_ENCRYPTION_KEY is required when NODE_ENV=production (32 bytes as hex or base64, e.g. `openssl rand -hex 32`)');
    } else if (problems.length === 0) {
      // Development convenience: generated once, kept in data/secrets.json (mode 0600).
      try {
        const dev = loadDevSecrets();
        jwtSecret ??= dev.jwtSecret;
        dataKeyRaw ??= dev.dataEncryptionKey;
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret, 'utf8') < 32) {
    problems.push('JWT_SECRET must be at least 32 bytes (256 bits), e.g. `openssl rand -base64 48`');
  }
  const dataEncryptionKey = dataKeyRaw === undefined ? undefined : parseDataKey(dataKeyRaw);
  if (dataKeyRaw !== undefined && dataEncryptionKey === undefined) {
    problems.push('DATA_ENCRYPTION_KEY must be 32 bytes written as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
  }

  const redisUrl = get('REDIS_URL');
  if (rateLimitStore === 'redis' && redisUrl === undefined) problems.push('REDIS_URL is required with RATE_LIMIT_STORE=redis (e.g. redis://127.0.0.1:6379/0)');
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) problems.push('REDIS_URL must be redis://[user:password@]host[:port][/db] or rediss://… (TLS)');
  // Issue #10 defect 7: production refuses what only a test or a laptop may use.
  const warnings: string[] = [];
  if (get('NODE_ENV') === undefined) {
    warnings.push(
      'NODE_ENV is not set: running as development — secrets generated into data/secrets.json, reset mail written to ' +
        `${mailOutboxDir} when SMTP_URL is unset, links built from ${publicUrl}. Set NODE_ENV=production on a real deployment.`,
    );
  }
  if (nodeEnv === 'production') {
    if (harnessToken !== undefined) problems.push('HARNESS_TOKEN must not be set when NODE_ENV=production (the harness moves the clock, reactivates accounts and resets budgets)');
    if (get('PUBLIC_URL') === undefined) problems.push('PUBLIC_URL is required when NODE_ENV=production: the https address users reach (reset links are built from it)');
    else if (!publicUrl.startsWith('https://')) problems.push(`PUBLIC_URL must be an https:// URL when NODE_ENV=production (got "${publicUrl}")`);
  }
  // Issue 20 item 14 / issue 17 item 6: without a relay, reset links (live credentials) would be
  // written in plain text to the outbox directory and nobody would get them.
  const mailOutboxInProduction = bool('MAIL_OUTBOX_IN_PRODUCTION', false);
  if (nodeEnv === 'production' && smtpUrl === undefined) {
    if (!mailOutboxInProduction) {
      problems.push(
        'SMTP_URL is required when NODE_ENV=production (e.g. smtps://user:password@relay.example.com): without it reset mail is only written to ' +
          `${mailOutboxDir}, never sent; to accept that on purpose, set MAIL_OUTBOX_IN_PRODUCTION=true`,
      );
    } else {
      warnings.push(
        `MAIL_OUTBOX_IN_PRODUCTION=true: no mail is sent; reset mail, with live reset links, is written in plain text to ${mailOutboxDir}. ` +
          'Protect that directory, or set SMTP_URL.',
      );
    }
  }
  const smtpAllowPlaintext = bool('SMTP_ALLOW_PLAINTEXT', false);
  const smtpRequireTls = smtpUrl !== undefined && smtpUrl.startsWith('smtp://') && !smtpAllowPlaintext && !isLoopbackUrl(smtpUrl);
  // Hot path and load (issue #8).
  const rateLimitMultiplier = int('RATE_LIMIT_MULTIPLIER', 1, 1, 1_000_000);
  if (nodeEnv === 'production' && rateLimitMultiplier !== 1) {
    problems.push('RATE_LIMIT_MULTIPLIER is for load tests only and is refused when NODE_ENV=production: unset it (the contract\'s limits apply)');
  }
  const poolSize = threadPoolSize(env);
  const hashConcurrency = int('HASH_CONCURRENCY', defaultHashConcurrency(env), 1, 1024);
  if (hashConcurrency > Math.max(1, poolSize - 1)) {
    problems.push(`HASH_CONCURRENCY must stay below UV_THREADPOOL_SIZE (${poolSize}), so that file and DNS work never waits behind scrypt: raise UV_THREADPOOL_SIZE or lower HASH_CONCURRENCY (got ${hashConcurrency})`);
  }
  // Issue 20: serve a released contract (openapi/releases/<version>.json) instead of the
  // working one, so an implementer can run the suite's `--contract <version>` against it.
  const contractVersion = get('CONTRACT_VERSION')?.replace(/^v/u, '');
  let contractPath: string | undefined;
  let contractDocumentsHashingBusy = true;
  if (contractVersion !== undefined) {
    const released = releasedContractVersions();
    if (!released.includes(contractVersion)) {
      problems.push(`CONTRACT_VERSION must be a released contract version (${released.join(', ')}; openapi/releases/), got "${contractVersion}"; unset it to serve the working contract`);
    } else {
      contractPath = fromRoot('openapi', 'releases', `${contractVersion}.json`);
      contractDocumentsHashingBusy = documentsHashingBusy(contractPath);
    }
  }
  // A contract that documents no 503 on its hashing operations (1.0.0) is served without
  // shedding hashing load: requests wait for a slot instead (HASH_QUEUE_MAX still overrides).
  const hashQueueMax = int('HASH_QUEUE_MAX', contractDocumentsHashingBusy ? 32 : 10_000, 0, 10_000);
  // Issue 9: bounded growth.
  const purgeIntervalSeconds = int('PURGE_INTERVAL_SECONDS', 3600, 0, 86_400);
  const rateLimitMemoryMaxKeys = int('RATE_LIMIT_MEMORY_MAX_KEYS', 100_000, 1000, 10_000_000);
  const startupTimeoutSeconds = int('STARTUP_TIMEOUT_SECONDS', 10, 1, 600);
  const smtpRequiredAtStart = bool('SMTP_REQUIRED_AT_START', nodeEnv === 'production');
  // Issue 17 (SEC 29): server-wide caps on connections and on clients that do not read.
  const connectionCaps: ConnectionCaps = {
    maxConnections: int('MAX_CONNECTIONS', 1024, 1, 1_000_000),
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 10_000, 1000, 300_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    slowReaderMaxQueuedBytes: int('SLOW_READER_MAX_QUEUED_BYTES', 1_048_576, 65_536, 1_073_741_824),
    slowReaderTimeoutMs: int('SLOW_READER_TIMEOUT_MS', 60_000, 1000, 3_600_000),
  };
  if (connectionCaps.requestTimeoutMs < connectionCaps.headersTimeoutMs) {
    problems.push(`REQUEST_TIMEOUT_MS (${connectionCaps.requestTimeoutMs}) must be at least HEADERS_TIMEOUT_MS (${connectionCaps.headersTimeoutMs}): a request cannot end before its headers`);
  }
  const rateLimitMemoryMaxAccountKeys = int('RATE_LIMIT_MEMORY_MAX_ACCOUNT_KEYS', 100_000, 1000, 10_000_000);
  // Issue 17: one IPv6 subscriber holds at least a /64 (SLAAC, privacy addresses): per /128 it had 2^64 budgets.
  const rateLimitIpv6Prefix = ipv6Prefix(get('RATE_LIMIT_IPV6_PREFIX'), problems);

  const dashboard = bool('DASHBOARD', true);

  if (problems.length > 0 || jwtSecret === undefined || dataEncryptionKey === undefined) throw new ConfigError(problems);
  return {
    port, host, database, databaseUrl, jwtSecret, dataEncryptionKey, accessTokenTtlSeconds, publicUrl,
    trustProxy, clientIpHeader, logLevel, nodeEnv, scryptLogN, smtpUrl, mailFrom, mailOutboxDir,
    harnessToken, rateLimitStore, validateResponses, rateLimitMultiplier, hashConcurrency, hashQueueMax, redisUrl,
    proxyTrust, smtpRequireTls, warnings, purgeIntervalSeconds, rateLimitMemoryMaxKeys,
    startupTimeoutSeconds, mailOutboxInProduction, smtpRequiredAtStart,
    connectionCaps, contractPath,
    rateLimitMemoryMaxAccountKeys, rateLimitIpv6Prefix,
    dashboard,
  };
}

function ipv6Prefix(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return 64;
  const value = raw.trim().replace(/^\//, '');
  if (/^[0-9]{1,3}$/.test(value) && Number(value) >= 32 && Number(value) <= 128) return Number(value);
  problems.push(
    `RATE_LIMIT_IPV6_PREFIX must be a prefix length from 32 to 128 (got "${raw}"): per-IP budgets key an IPv6 client by its /N network; ` +
      '64 (the default) is one subscriber\'s LAN, 56 or 48 when your clients\' providers hand out whole sites, 128 counts every address apart',
  );
  return 64;
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

function isRedisUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && /^(\/\d*)?$/.test(url.pathname);
  } catch {
    return false;
  }
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** The versions under openapi/releases/ (each `<version>.json`). */
function releasedContractVersions(): string[] {
  try {
    return readdirSync(fromRoot('openapi', 'releases')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
  } catch {
    return [];
  }
}

/** Whether a bundled contract documents a 503 on login (the hashing operations' "busy" answer). */
export function documentsHashingBusy(contractPath: string): boolean {
  const doc = JSON.parse(readFileSync(contractPath, 'utf8')) as { paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
  return doc.paths?.['/auth/login']?.post?.responses?.['503'] !== undefined;
}
