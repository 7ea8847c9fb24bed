import { documentedHeader } from '../checks/response-headers.ts';
import { templateMatches } from '../framework/client.ts';
import { parseRateLimit } from '../framework/pacer.ts';
import type { Contract, ContractOperation, Exchange, Level, Violation } from '../framework/types.ts';
import { CONTRACT_REQUIREMENTS, responseSpec, validateExchange, type RouteInfo } from '../framework/validate-exchange.ts';
import { MASK } from '../report/mask.ts';

// The rules real traffic is judged by (proxy and check-har): everything validate-exchange
// judges for the suite's own requests (CONTRACT-*), plus what the suite judges run-wide in its
// checks (ERRORS-05, ERRORS-08, RATE-*) restated per exchange (TRAFFIC-*), since real traffic
// has no check to attribute them to.

export const TRAFFIC_REQUIREMENTS: Record<string, string> = {
  'TRAFFIC-SECURITY-HEADERS': 'Every answer carries the documented X-Content-Type-Options, Referrer-Policy and X-Frame-Options (contract "Response headers", SEC 26)',
  'TRAFFIC-NO-STORE': 'Every answer carrying a secret (token, key, TOTP secret, backup codes) is Cache-Control: no-store (SEC 26)',
  'TRAFFIC-CACHE': 'Every other answer is Cache-Control: no-store too (contract "Response headers")',
  'TRAFFIC-URL-CREDENTIAL': 'A secured operation never accepts a credential from the query string (contract "Authentication", SEC 11)',
  'CLIENT-SECRET-IN-URL': 'Clients send no credential, password, token or code in a URL (contract "Authentication": never in the query string)',
  'TRAFFIC-RATELIMIT': 'RateLimit and RateLimit-Policy name the operation\'s documented policy, quota and window; r ≤ q, t ≤ w; a 429 rate_limited has r=0 and Retry-After = t',
};

export const RULES: Record<string, string> = { ...CONTRACT_REQUIREMENTS, ...TRAFFIC_REQUIREMENTS };

/** CLIENT-*: what the traffic's clients did, not the deployment (the suite's own SESSIONS-05
 * sends a token in the query string on purpose): a warning unless --fail-on should. */
const SHOULD_RULES = new Set(['TRAFFIC-CACHE', 'CLIENT-SECRET-IN-URL']);
export const levelOf = (id: string): Level => (SHOULD_RULES.has(id) ? 'SHOULD' : 'MUST');
export const areaOf = (id: string): string => (id.startsWith('TRAFFIC-') ? 'traffic' : id.startsWith('CLIENT-') ? 'client' : 'contract');

export interface Route extends RouteInfo {
  op?: ContractOperation;
  /** The path is one the contract documents (whatever the method). */
  known: boolean;
}

/** Routes already found, per contract (matching every template per exchange was the proxy's
 * largest cost); emptied when it grows past ROUTE_CACHE_SIZE distinct method and path pairs. */
const routes = new WeakMap<Contract, Map<string, Route>>();
const ROUTE_CACHE_SIZE = 10_000;

export function routeOf(contract: Contract, method: string, url: string): Route {
  const path = new URL(url, 'http://x').pathname;
  const key = `${method.toUpperCase()} ${path}`;
  let cache = routes.get(contract);
  if (!cache) routes.set(contract, (cache = new Map()));
  const known = cache.get(key);
  if (known) return known;
  const matching = contract.operations.filter((o) => templateMatches(o.path, path));
  const op = matching.find((o) => o.method === method.toUpperCase());
  const route: Route = { ...(op ? { op } : {}), allowed: matching.map((o) => o.method), known: matching.length > 0 };
  if (cache.size >= ROUTE_CACHE_SIZE) cache.clear();
  cache.set(key, route);
  return route;
}

const SECRET_BODY = /"(access_token|key|secret|backup_codes)"\s*:/u;
const SECRET_PARAMS = /^(password|new_password|current_password|token|access_token|refresh_token|id_token|api_key|apikey|key|secret|code|totp_code|backup_code|authorization|session)$/iu;
/** A JWT or API key in a URL, or what the suite's masking left of one. */
const SECRET_SHAPES = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+|eyJ\*\*\*|qzk_[A-Za-z0-9_-]{8,}|qzk_\*\*\*/u;

export interface JudgeOptions {
  /** The exchange came from a masked record (the suite's --har): masked values are not judged. */
  masked?: boolean;
  /** The body was larger than the capture cap: only status and headers are judged. */
  truncated?: boolean;
}

/**
 * Every rule over one exchange. Paths outside the contract (the reset page, /docs, a
 * dashboard's assets, the harness) answered with anything but 404 are not the contract's
 * business: only the URL and security-header rules apply to them.
 */
export function judge(contract: Contract, route: Route, ex: Exchange, opts: JudgeOptions = {}): Violation[] {
  const out: Violation[] = [];
  const outside = ex.status > 0 && !route.known && ex.status !== 404;
  // A 503 the contract documents for every operation (x-global-responses: database or
  // rate-limit store unreachable) is not CONTRACT-NO-5XX in real traffic; its Retry-After is due.
  const global503 = ex.status === 503 && !!contract.document?.['x-global-responses']?.['503'];
  if (!outside) {
    let contractViolations = validateExchange(contract, route.op, route, global503 ? { ...ex, provoked5xx: true } : ex);
    if (global503 && !route.op?.statuses.includes(503) && !/^\d+$/u.test(ex.headers['retry-after'] ?? '')) contractViolations.push({ requirement: 'CONTRACT-HEADERS', message: `503 without an integer Retry-After (got ${JSON.stringify(ex.headers['retry-after'] ?? null)})` });
    if (opts.truncated) contractViolations = contractViolations.filter((v) => v.requirement !== 'CONTRACT-SCHEMA' && v.requirement !== 'CONTRACT-PROBLEM');
    if (opts.masked && route.op) contractViolations = unmaskedSchemaViolations(contract, route.op, ex, contractViolations);
    out.push(...contractViolations);
  }
  const add = (requirement: string, message: string): void => {
    out.push({ requirement, message });
  };
  secretInUrl(ex, route, add);
  if (ex.status === 0) return out;
  securityHeaders(contract, ex, add);
  // Secrets are judged in the answers of contract operations: an answer outside it (the
  // bundled contract at /openapi.json, the docs) names the secret fields in its own text and is
  // documented cacheable (contract "Outside this contract").
  if (ex.status < 300 && !outside && SECRET_BODY.test(ex.text)) {
    if (!/\bno-store\b/iu.test(ex.headers['cache-control'] ?? '')) add('TRAFFIC-NO-STORE', `an answer carrying a secret has Cache-Control ${JSON.stringify(ex.headers['cache-control'] ?? null)}`);
  } else if (!outside && !/\bno-store\b/iu.test(ex.headers['cache-control'] ?? '')) {
    add('TRAFFIC-CACHE', `Cache-Control is ${JSON.stringify(ex.headers['cache-control'] ?? null)}, documented: no-store`);
  }
  if (route.op) rateLimit(route.op, ex, add);
  return out;
}

function secretInUrl(ex: Exchange, route: Route, add: (r: string, m: string) => void): void {
  const url = new URL(ex.request.url, 'http://x');
  const names = route.known ? [...url.searchParams.keys()].filter((name) => SECRET_PARAMS.test(name)) : [];
  if (names.length) add('CLIENT-SECRET-IN-URL', `the query string carries ${names.map((n) => `"${n}"`).join(', ')}`);
  if (SECRET_SHAPES.test(`${url.pathname}${url.search}`)) add('CLIENT-SECRET-IN-URL', 'the URL carries a session token or an API key');
  // The deployment's side: a secured operation answered with success to a request whose only
  // credential was in the URL.
  const secured = !!route.op && route.op.security.length > 0 && route.op.security.every((alternative) => alternative.length > 0);
  if (secured && ex.status >= 200 && ex.status < 300 && !ex.request.headers['authorization'] && (names.length || SECRET_SHAPES.test(url.search))) {
    add('TRAFFIC-URL-CREDENTIAL', `${route.op!.operationId} answered ${ex.status} with no Authorization header, a credential only in the URL`);
  }
}

const documentedSecurityHeaders = new WeakMap<Contract, Array<{ name: string; wanted: string }>>();

/** The values the contract's "Response headers" section documents (read once per contract). */
function securityHeadersOf(contract: Contract): Array<{ name: string; wanted: string }> {
  let list = documentedSecurityHeaders.get(contract);
  if (!list) {
    const description = String(contract.document?.info?.description ?? '');
    list = ['X-Content-Type-Options', 'Referrer-Policy', 'X-Frame-Options']
      .map((name) => ({ name, wanted: documentedHeader(description, name) ?? (name === 'X-Content-Type-Options' ? 'nosniff' : undefined) }))
      .filter((h): h is { name: string; wanted: string } => h.wanted !== undefined);
    documentedSecurityHeaders.set(contract, list);
  }
  return list;
}

function securityHeaders(contract: Contract, ex: Exchange, add: (r: string, m: string) => void): void {
  for (const { name, wanted } of securityHeadersOf(contract)) {
    const got = ex.headers[name.toLowerCase()];
    if ((got ?? '').toLowerCase() !== wanted.toLowerCase()) add('TRAFFIC-SECURITY-HEADERS', `${name} is ${JSON.stringify(got ?? null)}, documented: ${wanted}`);
  }
}

function rateLimit(op: ContractOperation, ex: Exchange, add: (r: string, m: string) => void): void {
  const policyHeader = ex.headers['ratelimit-policy'];
  const documented = [op.rateLimit, op.rateLimitFailures].filter((p) => p !== undefined);
  if (policyHeader && documented.length) {
    const m = /^\s*"([^"]+)";\s*q=(\d+);\s*w=(\d+)/u.exec(policyHeader);
    const policy = m && documented.find((p) => p.policy === m[1]);
    if (!m) return; // its shape is CONTRACT-HEADERS' business
    if (!policy) {
      add('TRAFFIC-RATELIMIT', `RateLimit-Policy names "${m[1]}"; ${op.operationId} documents ${documented.map((p) => `"${p.policy}"`).join(' or ')}`);
      return;
    }
    const [q, w] = [Number(m[2]), Number(m[3])];
    if (q !== policy.limit || w !== policy.window_seconds) add('TRAFFIC-RATELIMIT', `RateLimit-Policy ${policyHeader}; documented: q=${policy.limit};w=${policy.window_seconds}`);
    const left = parseRateLimit(ex.headers['ratelimit'], policy.policy);
    if (ex.headers['ratelimit'] && !left) add('TRAFFIC-RATELIMIT', `RateLimit ${JSON.stringify(ex.headers['ratelimit'])} does not name the policy "${policy.policy}"`);
    if (!left) return;
    if (left.remaining > q) add('TRAFFIC-RATELIMIT', `RateLimit r=${left.remaining} exceeds the quota q=${q}`);
    if (left.resetSeconds > w) add('TRAFFIC-RATELIMIT', `RateLimit t=${left.resetSeconds} exceeds the window w=${w}`);
    if (ex.status === 429 && ex.body?.code === 'rate_limited') {
      if (left.remaining !== 0) add('TRAFFIC-RATELIMIT', `429 rate_limited with RateLimit r=${left.remaining} (expected 0)`);
      const retryAfter = Number(ex.headers['retry-after']);
      if (Number.isFinite(retryAfter) && Math.abs(retryAfter - left.resetSeconds) > 1) {
        add('TRAFFIC-RATELIMIT', `429 with Retry-After ${retryAfter} but RateLimit t=${left.resetSeconds}`);
      }
    }
  }
}

/** In a masked record (`"access_token": "***"`), a schema error about a masked value says
 * nothing about the deployment: such errors are dropped, the rest kept. */
function unmaskedSchemaViolations(contract: Contract, op: ContractOperation, ex: Exchange, violations: Violation[]): Violation[] {
  if (!violations.some((v) => v.requirement === 'CONTRACT-SCHEMA')) return violations;
  const spec = responseSpec(op, ex.status);
  const type = (ex.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const schema = spec?.schemas[type];
  if (!spec || schema === undefined || ex.body === undefined) return violations;
  const { errors } = contract.validate(schema, ex.body);
  const real = errors.filter((e) => {
    const value = valueAt(ex.body, e.split(' ')[0]!);
    return !isMasked(value);
  });
  const others = violations.filter((v) => v.requirement !== 'CONTRACT-SCHEMA');
  return real.length ? [...others, { requirement: 'CONTRACT-SCHEMA', message: `${op.operationId} ${ex.status}: ${real.slice(0, 6).join('; ')}` }] : others;
}

/** `"***"`, `"qzk_***"`, a URL with `secret=***`, or a list of them (masked backup codes are
 * all alike: `uniqueItems` fails on the mask, not on the deployment). */
function isMasked(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(MASK);
  return Array.isArray(value) && value.length > 0 && value.every(isMasked);
}

function valueAt(body: unknown, pointer: string): unknown {
  if (pointer === '/' || pointer === '') return body;
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((at, seg) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[seg.replace(/~1/gu, '/').replace(/~0/gu, '~')] : undefined), body);
}
