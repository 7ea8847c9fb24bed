import type { RequestGate } from './gate.ts';
import type { Pacer, PacerKeys } from './pacer.ts';
import { contractVersion, NotInContract } from './features.ts';
import { Implementation } from './profiles.ts';
import type { Tracker } from './tracker.ts';
import { send } from './transport.ts';
import type { CallOptions, Client, Contract, ContractOperation, Exchange } from './types.ts';
import { validateExchange, type RouteInfo } from './validate-exchange.ts';

// The ONE HTTP client every check uses: finds the operation in the contract, paces the call,
// sends it, records the exchange and validates it. Nothing else in the suite talks HTTP to
// the deployment (the harness has its own contract and client).

const STORED_BODY_BYTES = 8192;
/** An unplanned 429 is retried once after Retry-After when that is at most this long. */
const MAX_RETRY_WAIT_S = 75;

export interface ClientEnv {
  contract: Contract;
  pacer: Pacer;
  tracker: Tracker;
  baseUrl: string;
  clientIpHeader?: string;
  timeoutMs: number;
  /** `--header`: sent with every request (the check's own headers still win). */
  extraHeaders?: Record<string, string>;
  /** Operations found not implemented (global 404): calls to them end the check as skipped. */
  implementation?: Implementation;
  /** Timing samples go on the wire alone (`alone`); every other request passes through it. */
  gate?: RequestGate;
  /** Every exchange goes here (the run's record, the check's own list). */
  record(ex: Omit<Exchange, 'id'>): Exchange;
}

export interface ClientOwner {
  checkId: string;
  signal?: AbortSignal;
}

export class ContractClient implements Client {
  constructor(
    private readonly env: ClientEnv,
    readonly ip: string,
    private readonly owner: ClientOwner,
  ) {}

  call(operationId: string, opts: CallOptions = {}): Promise<Exchange> {
    // A check built for another contract version: not a failure of the deployment (features.ts).
    if (!this.env.contract.operations.some((o) => o.operationId === operationId)) {
      return Promise.reject(new NotInContract(`not in contract ${contractVersion(this.env.contract)}: operation ${operationId}`));
    }
    const op = this.env.contract.operation(operationId);
    return this.exchange(op, { allowed: [op.method] }, op.method, fillPath(op, opts.params ?? {}), opts);
  }

  request(method: string, path: string, opts: Omit<CallOptions, "params"> = {}): Promise<Exchange> {
    const upper = method.toUpperCase();
    const bare = path.split('?')[0]!;
    const matching = this.env.contract.operations.filter((op) => templateMatches(op.path, bare));
    const op = matching.find((o) => o.method === upper);
    // A path whose every operation is known absent: its answers prove nothing about the rest.
    const implementation = this.env.implementation;
    if (!op && matching.length && implementation && matching.every((o) => implementation.known(o))) return Promise.reject(implementation.known(matching[0]!));
    return this.exchange(op, { allowed: matching.map((o) => o.method) }, upper, path, opts, false, matching);
  }

  private async exchange(
    op: ContractOperation | undefined,
    route: RouteInfo,
    method: string,
    path: string,
    opts: CallOptions,
    retried = false,
    /** request(): the operations documented on this path. */
    pathOps: ContractOperation[] = [],
  ): Promise<Exchange> {
    const { env } = this;
    if (this.owner.signal?.aborted) throw new Error('the check timed out');
    const url = /^https?:\/\//u.test(path) ? path : `${env.baseUrl}${path}${queryString(opts.query)}`;
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'user-agent': 'quazzar-conformance',
    };
    let body: Buffer | undefined;
    if (opts.rawBody !== undefined) body = Buffer.isBuffer(opts.rawBody) ? opts.rawBody : Buffer.from(opts.rawBody, 'utf8');
    else if (opts.body !== undefined) body = Buffer.from(JSON.stringify(opts.body), 'utf8');
    if (body && opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
    else if (!body && opts.contentType) headers['content-type'] = opts.contentType;
    if (body) headers['content-length'] = String(body.length);
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    Object.assign(headers, lowerKeys(env.extraHeaders ?? {}));
    if (env.clientIpHeader && this.ip !== 'self') headers[env.clientIpHeader.toLowerCase()] = this.ip;
    Object.assign(headers, lowerKeys(opts.headers ?? {}));

    const keys: PacerKeys = {
      ip: this.ip,
      ...(env.tracker.isLive(opts.token) ? { token: opts.token! } : {}),
      ...(op?.rateLimitFailures && isRecord(opts.body) && typeof opts.body['email'] === 'string'
        ? { email: opts.body['email'].toLowerCase() }
        : env.tracker.emailOf(opts.token) !== undefined
          ? { email: env.tracker.emailOf(opts.token)!.toLowerCase() }
          : {}),
    };
    const absent = op && env.implementation?.known(op);
    if (absent) throw absent;
    const pace = opts.pace !== false;
    const reservation = op ? await env.pacer.acquire(op, keys, pace, this.owner.signal) : undefined;
    if (opts.lateBody) {
      body = Buffer.from(JSON.stringify({ ...(isRecord(opts.body) ? opts.body : {}), ...(await opts.lateBody()) }), 'utf8');
      headers['content-length'] = String(body.length);
      headers['content-type'] ??= 'application/json';
    }
    const request = () => send({ method, url, headers, ...(body ? { body } : {}), timeoutMs: opts.timeoutMs ?? env.timeoutMs });
    const raw = await (env.gate ? (opts.alone ? env.gate.alone(request) : env.gate.shared(request)) : request());
    const json = parseJson(raw.headers['content-type'], raw.text);
    if (op && reservation) {
      env.pacer.settle(op, keys, reservation, { status: raw.status, headers: raw.headers, ...(isRecord(json) && typeof json['code'] === 'string' ? { code: json['code'] } : {}) });
    }
    const expected = ([] as number[]).concat(opts.expect ?? []);
    const unplanned429 = raw.status === 429 && pace && !expected.includes(429) && json?.['code'] !== 'totp_locked';
    const provoked5xx = raw.status >= 500 && expected.includes(raw.status) && op?.statuses.includes(raw.status) === true;
    const draft: Omit<Exchange, 'id'> = {
      ...(op ? { operationId: op.operationId } : {}),
      checkId: this.owner.checkId,
      client: this.ip,
      request: {
        method,
        url,
        // `--header` values (gateway keys) are credentials: never in a report.
        headers: maskExtra(headers, env.extraHeaders, opts.headers),
        ...(body ? { body: body.length > STORED_BODY_BYTES ? `${body.subarray(0, 256).toString('utf8')}… (${body.length} bytes)` : body.toString('utf8') } : {}),
        bodyBytes: body?.length ?? 0,
      },
      status: raw.status,
      headers: raw.headers,
      text: raw.text,
      body: json,
      durationMs: raw.durationMs,
      startedAt: new Date(raw.startedAt).toISOString(),
      timings: raw.timings,
      ...(raw.error ? { error: raw.error } : {}),
      violations: [],
      ...(unplanned429 ? { unplanned429: true } : {}),
      ...(provoked5xx ? { provoked5xx: true } : {}),
    };
    // The global 404 on a documented operation: not implemented, reported once for the run
    // (profiles.ts), not a contract violation of every check that tried it.
    const missing = !!op && !!env.implementation && Implementation.isGlobal404(op, draft);
    // An undocumented method on a path of a profile already found absent: its 404 is that too.
    const absentPath = !op && !!env.implementation && pathOps.length > 0 && env.implementation.siblingMissing(pathOps[0]!) && draft.status === 404 && draft.body?.code === 'not_found';
    if (!opts.unvalidated && !missing && !absentPath) draft.violations = validateExchange(env.contract, op, route, draft as Exchange);
    const ex = env.record(draft);
    env.tracker.observe(ex);
    if (missing) throw env.implementation!.record(op, ex.id);
    if (absentPath) throw env.implementation!.known(pathOps[0]!, true)!;
    const retryAfter = Number(raw.headers['retry-after']);
    if (unplanned429 && !retried && Number.isFinite(retryAfter) && retryAfter <= MAX_RETRY_WAIT_S) {
      // The pacer learnt the window from this answer: the retry waits until it reopens.
      return this.exchange(op, route, method, path, opts, true, pathOps);
    }
    return ex;
  }
}

function fillPath(op: ContractOperation, params: Record<string, string>): string {
  return op.path.replace(/\{([^}]+)\}/gu, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${op.operationId}: path parameter "${name}" missing`);
    return encodeURIComponent(value);
  });
}

/** `/users/me/api-keys/{keyId}` matches `/users/me/api-keys/abc` (exported for the proxy's router). */
export function templateMatches(template: string, path: string): boolean {
  const pattern = template.replace(/[.*+?^$()|[\]\\]/gu, '\\$&').replace(/\\?\{[^}]+\\?\}/gu, '[^/]+');
  return new RegExp(`^${pattern}$`, 'u').test(path);
}

function queryString(query: Record<string, string> | undefined): string {
  return query && Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : '';
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseJson(contentType: string | undefined, text: string): Record<string, unknown> | undefined {
  if (!/json/iu.test(contentType ?? '') || !text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

function maskExtra(headers: Record<string, string>, extra: Record<string, string> | undefined, own: Record<string, string> | undefined): Record<string, string> {
  if (!extra) return headers;
  const mine = new Set(Object.keys(own ?? {}).map((k) => k.toLowerCase()));
  const out = { ...headers };
  for (const name of Object.keys(extra)) if (!mine.has(name.toLowerCase()) && out[name.toLowerCase()] !== undefined) out[name.toLowerCase()] = '***';
  return out;
}
