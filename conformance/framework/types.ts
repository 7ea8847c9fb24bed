// The check API: what a check file (conformance/checks/<area>.ts) sees.
//
// A check file exports an array of CheckDef. The runner gives each check a CheckContext whose
// `call()` goes through the ONE contract-driven HTTP client: it finds the operation in
// generated/openapi.json, paces itself against every documented rate limit, sends the request,
// records the exchange, and validates it (documented status, media type, required headers,
// body schema). Contract violations fail the CONTRACT-* requirement AND the check that made
// the call — a check never has to re-validate shapes itself.
//
// Failing: `ctx.fail(msg)`, `ctx.expectStatus(ex, 201)` and `ctx.require(cond, msg)` throw and
// end the check; `ctx.expect(cond, msg)` records a failure and lets the check continue.
// A MUST check with a failure → 'fail'; a SHOULD check with a failure → 'warn'.
// Skipping: declare `needs` (the runner skips with the reason) or call `ctx.skip(reason)`.

/** MUST failures make the run fail (exit 1); SHOULD failures are warnings. */
export type Level = 'MUST' | 'SHOULD';

export type Outcome = 'pass' | 'fail' | 'warn' | 'skip' | 'partial';

/** Capabilities a deployment may or may not offer the suite. */
export type Need =
  | 'smtp' // --smtp-port: the suite receives the deployment's mail
  | 'harness' // --harness-url + token: clock, activation, rate-limit resets
  | 'clientIp'; // --client-ip-header: the suite can simulate distinct client addresses

export interface CheckDef {
  /** Requirement id, `AREA-NN` (e.g. `LOGIN-03`); unique across the suite. */
  id: string;
  /** Area name, the file's name (`login`, `totp`, …); `--only`/`--skip` select by it. */
  area: string;
  level: Level;
  /** The requirement, stated so a reader knows what broke; cite SECURITY.md as `(SEC 4)`. */
  title: string;
  /** Missing capability → SKIPPED with the reason; never silently passed. */
  needs?: Need[];
  /**
   * Rough count of requests this check makes per rate-limit policy from ONE client address
   * (e.g. `{ register: 1, login: 3 }`); the runner uses it for the run-time estimate only.
   * The pacer does the real accounting.
   */
  cost?: Record<string, number>;
  /** Per-check timeout; default from `--timeout-ms` (waits in the pacer count too). */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<void>;
}

// ---------------------------------------------------------------- HTTP exchanges

export interface CallOptions {
  /** Path parameters, e.g. `{ keyId }`. */
  params?: Record<string, string>;
  /** Query string parameters. */
  query?: Record<string, string>;
  /** JSON body (serialised by the client; `Content-Type: application/json` by default). */
  body?: unknown;
  /** Raw body bytes sent as is (malformed JSON, oversized bodies). */
  rawBody?: string | Buffer;
  /** Overrides the Content-Type; `null` sends none. */
  contentType?: string | null;
  /** Bearer credential: `Authorization: Bearer <token>`. */
  token?: string;
  /** Extra headers (they win over the ones the client sets). */
  headers?: Record<string, string>;
  /**
   * `false`: do not wait for budgets (a check driving a limit to 429 on purpose); the call is
   * still counted, and a 429 it meets is a planned one. Default `true`.
   */
  pace?: boolean;
  /** Statuses this call provokes on purpose: only used to label 429s as planned. */
  expect?: number | number[];
  /** Body fields that would go stale while the call waits for its rate-limit budget (a TOTP
   * code: the server accepts its step ±1, a login window is a minute): computed once the
   * budget is reserved, merged into `body`. */
  lateBody?: () => Promise<Record<string, unknown>>;
  /** Per-request timeout override. */
  timeoutMs?: number;
  /** A timing sample: sent when no other request of the run is in flight, and none is sent
   * until it is answered (framework/gate.ts). */
  alone?: boolean;
  /** A resource outside the contract (e.g. the reset page a mail links to): recorded, not
   * validated. `request()` only. */
  unvalidated?: boolean;
}

export interface ExchangeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Body length in bytes (a large body is not stored whole). */
  bodyBytes: number;
}

export interface Violation {
  /** `CONTRACT-STATUS`, `CONTRACT-MEDIA-TYPE`, `CONTRACT-HEADERS`, `CONTRACT-SCHEMA`,
   * `CONTRACT-PROBLEM`, `CONTRACT-NO-5XX`, … */
  requirement: string;
  message: string;
}

export interface Exchange {
  /** Sequence number within the run (reports link failures to it). */
  id: number;
  /** When the request was sent (ISO 8601, wall clock) and its HAR timings (ms). */
  startedAt?: string;
  timings?: { send: number; wait: number; receive: number };
  /** The operation the request was sent to; undefined for paths outside the contract. */
  operationId?: string;
  /** The check that made the call (or `setup` / `cleanup`). */
  checkId: string;
  /** The simulated client address (`--client-ip-header`) or `self`. */
  client: string;
  request: ExchangeRequest;
  /** 0 when the request failed at the network level (see `error`). */
  status: number;
  /** Response headers, lower-cased names. */
  headers: Record<string, string>;
  /** Response body as text. */
  text: string;
  /** Parsed JSON body when the response is JSON (any JSON media type), else undefined. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  durationMs: number;
  /** Network error message, when there was no response. */
  error?: string;
  /** What the automatic contract validation found wrong with this exchange. */
  violations: Violation[];
  /** A 429 this exchange met although the suite did not provoke it. */
  unplanned429?: boolean;
  /** A documented 5xx the check provoked on purpose (`expect`, e.g. through a harness fault):
   * not a CONTRACT-NO-5XX or ERRORS-04 violation. */
  provoked5xx?: boolean;
}

/** A simulated client: its own address when `--client-ip-header` is set, else the suite's. */
export interface Client {
  /** The address sent in the client-ip header, or `self`. */
  readonly ip: string;
  call(operationId: string, opts?: CallOptions): Promise<Exchange>;
  /** A request outside the contract's operations (unknown path, wrong method), still recorded
   * and validated (global 404 / 405 rules). `path` may include a query string. */
  request(method: string, path: string, opts?: Omit<CallOptions, 'params'>): Promise<Exchange>;
}

// ---------------------------------------------------------------- accounts

/** Mutable: a check that changes the password (change / reset) updates `password`, so the
 * cleanup can still log in. */
export interface Account {
  id: string;
  /** `qz-conf-<runid>-<n>@example.com`. */
  email: string;
  /** Strong random password (or the one the check asked for). */
  password: string;
  fullName: string;
}

export interface Session {
  account: Account;
  /** The access token (JWT). */
  token: string;
  /** The login exchange, for checks that inspect it. */
  exchange: Exchange;
}

export interface AccountFactory {
  /** A fresh address in the run's namespace, not registered. */
  newEmail(): string;
  /** A strong random password (24 chars, [A-Za-z0-9] plus a Unicode letter). */
  newPassword(): string;
  /** Registers a fresh account (expects 201; fails the check otherwise). */
  create(opts?: { password?: string; fullName?: string; companyName?: string; client?: Client }): Promise<Account>;
  /** Logs in (expects 200; fails the check otherwise). Registered for cleanup (logout). */
  login(account: Account, opts?: { totpCode?: string; client?: Client }): Promise<Session>;
  /**
   * One account shared by checks that only READ it (never change its password, TOTP, state,
   * never log its shared session out): saves register/login budget on slow deployments.
   */
  shared(): Promise<Session>;
}

// ---------------------------------------------------------------- optional capabilities

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html?: string;
  /** Local epoch ms when the sink received it. */
  receivedAt: number;
}

/** Implemented by conformance/lib/smtp-sink.ts (C2): `startMailSink(opts): Promise<MailSink>`. */
export interface MailSink {
  readonly port: number;
  /** Resolves with the first mail to `to` received after the sink started and not yet taken
   * by an earlier waitForMail; rejects after `timeoutMs`. */
  waitForMail(to: string, timeoutMs: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}
export type StartMailSink = (opts: { host: string; port: number }) => Promise<MailSink>;

export interface HarnessClock {
  now: string;
  offset_seconds: number;
}

/** The harness contract (generated/harness.json), implemented by the framework through the
 * same recording client (conformance/framework/harness.ts); lib/ needs no harness client.
 * Every method throws (failing the check) when the harness does not answer 200. */
export interface Harness {
  deactivateAccount(email: string): Promise<Exchange>;
  activateAccount(email: string): Promise<Exchange>;
  getClock(): Promise<HarnessClock>;
  /** Server time, epoch ms. */
  now(): Promise<number>;
  /** Moves the server clock forward; the pacer learns that windows closed. */
  advanceClock(seconds: number): Promise<HarnessClock>;
  resetClock(): Promise<HarnessClock>;
  /** Returns how many budgets were cleared. */
  resetRateLimits(target: { ip?: string; email?: string }): Promise<number>;
  /** The health probe sees the database as unreachable for `seconds` of server time (0 clears). */
  setDatabaseFault(seconds: number): Promise<void>;
  /** Stores the account's password hashed at scrypt cost 2^logN (SEC 32); a harness of an
   * older contract lacks it (HarnessError). */
  setPasswordHash?(email: string, password: string, logN: number): Promise<void>;
}

// ---------------------------------------------------------------- contract view

export interface RateLimitPolicy {
  policy: string;
  limit: number;
  window_seconds: number;
  key: 'ip' | 'token' | 'account';
}

export interface ResponseSpec {
  status: string; // '200', '4XX', 'default'
  contentTypes: string[];
  /** Schema per media type (refs resolved by Ajv against the whole document). */
  schemas: Record<string, unknown>;
  /** Header names (lower-cased) marked `required: true`. */
  requiredHeaders: string[];
  /** Header schemas, lower-cased names. */
  headers: Record<string, { required: boolean; schema?: unknown }>;
}

export interface ContractOperation {
  operationId: string;
  method: string; // upper case
  path: string; // template, e.g. /users/me/api-keys/{keyId}
  tags: string[];
  /** Alternatives of scheme names; [] = no security. e.g. [['session'], ['apiKey']]. */
  security: string[][];
  /** JSON request body schema (resolved, no $ref at the top) or undefined. */
  requestSchema?: unknown;
  requestBodyRequired: boolean;
  /** Documented statuses as numbers (explicit codes only). */
  statuses: number[];
  responses: Record<string, ResponseSpec>;
  rateLimit?: RateLimitPolicy;
  rateLimitFailures?: RateLimitPolicy;
}

export interface Contract {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  document: any;
  operations: ContractOperation[];
  /** Throws when unknown (a check naming a missing operation is a suite bug). */
  operation(operationId: string): ContractOperation;
  /** Every rate-limit policy, with the operations that share it. */
  policies(): Array<RateLimitPolicy & { operations: string[] }>;
  /** `x-request-body-limit-bytes` (16384 by default). */
  bodyLimitBytes: number;
  /** Resolves a local `$ref` (`#/components/...`) recursively one level. */
  resolve<T = unknown>(node: T): T;
  /** Ajv validation of `value` against `schema` (a node of this document). */
  validate(schema: unknown, value: unknown): { valid: boolean; errors: string[] };
}

// ---------------------------------------------------------------- the context

export interface RunOptions {
  baseUrl: string;
  smtpPort?: number;
  smtpHost?: string;
  clientIpHeader?: string;
  harnessUrl?: string;
  harnessToken?: string;
  only?: string[];
  skip?: string[];
  /** Where reports are written; `null` writes none. */
  reportDir?: string | null;
  contractPath?: string;
  harnessContractPath?: string;
  /** Per-check timeout (ms). */
  timeoutMs?: number;
  /** Progress lines (default: console). */
  log?: (line: string) => void;
  /** Fixed run id (tests); default random. */
  runId?: string;
  /** Aborting it skips the checks not started yet; cleanup and reports still happen. */
  interrupt?: AbortSignal;
}

export interface CheckContext {
  readonly check: CheckDef;
  readonly runId: string;
  readonly options: Readonly<RunOptions>;
  readonly contract: Contract;
  /** The check's own client (its own address with --client-ip-header). */
  readonly client: Client;
  /** Same as `client.call`. */
  call(operationId: string, opts?: CallOptions): Promise<Exchange>;
  /** Same as `client.request`. */
  request(method: string, path: string, opts?: Omit<CallOptions, 'params'>): Promise<Exchange>;
  /** Another simulated client (a distinct address with --client-ip-header; else the same). */
  newClient(): Client;
  readonly accounts: AccountFactory;
  /** Present only when the deployment offers it (declare the need). */
  readonly harness?: Harness;
  readonly mail?: MailSink;
  /** The server's time (epoch ms): harness clock when available, else the last `Date` header
   * (fetches one with getHealth when none was seen in the last few seconds). */
  serverTime(): Promise<number>;
  /** Every exchange of the run so far (all checks), for run-wide judgements. */
  exchanges(): readonly Exchange[];
  /** Waits (counts toward the check's timeout); a wait of a second or more prints a progress
   * line with `why` (e.g. "for TOTP step 123 (no harness clock to move)"). */
  sleep(ms: number, why?: string): Promise<void>;
  /**
   * Waits until the budget the operation's rate-limit policy keeps for this caller (the
   * client's address, or `token` for token policies) has nothing counted, so a check that
   * drives it to 429 can count the limit exactly. Immediate for a fresh simulated client.
   */
  freshBudget(operationId: string, opts?: { client?: Client; token?: string }): Promise<void>;

  /** Records a failure (with the exchange that shows it) and continues. */
  expect(condition: unknown, message: string, exchange?: Exchange): boolean;
  /** Records a failure and ends the check when `condition` is falsy. */
  require(condition: unknown, message: string, exchange?: Exchange): asserts condition;
  /** Ends the check with a failure unless `exchange.status` is one of `status`. */
  expectStatus(exchange: Exchange, status: number | number[], message?: string): void;
  /** Ends the check with a failure. */
  fail(message: string, exchange?: Exchange): never;
  /** Ends the check as SKIPPED with the reason. */
  skip(reason: string): never;
  /** Informational line in the report. */
  note(message: string): void;
  /** Registers a cleanup action, run right after this check ends (newest first, its sessions
   * still alive); a failure is reported as left behind. API keys, TOTP and sessions the check
   * created need none: the framework tracks and undoes them at the end of the run. */
  defer(description: string, action: () => Promise<void>): void;
}

// ---------------------------------------------------------------- results

export interface Finding {
  message: string;
  /** The requirement the finding fails: the check's id, or a CONTRACT-* id. */
  requirement: string;
  exchangeId?: number;
}

export interface CheckResult {
  id: string;
  area: string;
  level: Level;
  title: string;
  /** The capabilities the check declared it needs. */
  needs?: Need[];
  outcome: Outcome;
  /** Skip reason, or the first failure. */
  reason?: string;
  findings: Finding[];
  notes: string[];
  exchangeIds: number[];
  durationMs: number;
}

export interface CoverageCell {
  operationId: string;
  method: string;
  path: string;
  status: number;
  exercised: number; // how many exchanges answered it
}

export interface RunResult {
  runId: string;
  baseUrl: string;
  startedAt: string;
  durationMs: number;
  estimatedMs: number;
  capabilities: Record<Need, boolean>;
  checks: CheckResult[];
  /** Contract requirement results (CONTRACT-*), one per id. */
  requirements: CheckResult[];
  exchanges: Exchange[];
  coverage: CoverageCell[];
  /** Statuses answered although not documented: `operationId status` strings. */
  undocumented: string[];
  unplanned429: number;
  leftBehind: string[];
  summary: { pass: number; fail: number; warn: number; skip: number; partial?: number; mustFailed: number };
  /** The run was interrupted: the checks not started are skipped. */
  interrupted?: boolean;
  exitCode: 0 | 1;
}
