import type { AccountPool } from './accounts.ts';
import { ContractClient, type ClientEnv } from './client.ts';
import type { CallOptions, CheckContext, CheckDef, Contract, Exchange, Finding, Harness, MailSink, RunOptions } from './types.ts';

// One CheckContext per check: its own client (its own simulated address), its findings, its
// exchanges, its deferred cleanups. Assertions throw these two signals to end a check.

export class CheckFailed extends Error {}
export class CheckSkipped extends Error {}

export interface ContextDeps {
  runId: string;
  options: RunOptions;
  contract: Contract;
  env: ClientEnv;
  accounts: AccountPool;
  harness?: Harness;
  mail?: MailSink;
  /** A fresh simulated client address (or `self`). */
  nextIp(): string;
  serverTime(ctx: CheckContext): Promise<number>;
  exchanges(): readonly Exchange[];
  /** Progress lines (a wait of a second or more is announced: no minute of a run is silent). */
  log?: (line: string) => void;
}

export interface CheckState {
  findings: Finding[];
  notes: string[];
  exchangeIds: number[];
  controller: AbortController;
  /** Cleanups the check registered, run by the runner right after the check. */
  deferred: Array<{ description: string; action: () => Promise<void> }>;
  /** `ctx.partial()`: what the check could not verify. */
  notVerified?: string[];
  /** `ctx.warn()`: warnings that make a check without failures WARN. */
  warnings?: Finding[];
  /** `ctx.measured()`. */
  measurement?: import('./options.ts').Measurement;
  /** Real time the check slept (`ctx.sleep`): TOTP steps, windows, Retry-After. */
  sleptMs: number;
}

export function createContext(check: CheckDef, deps: ContextDeps): { ctx: CheckContext; state: CheckState } {
  const state: CheckState = { findings: [], notes: [], exchangeIds: [], controller: new AbortController(), deferred: [], sleptMs: 0 };
  const owner = { checkId: check.id, signal: state.controller.signal };
  const env: ClientEnv = {
    ...deps.env,
    record: (draft) => {
      const ex = deps.env.record(draft);
      state.exchangeIds.push(ex.id);
      return ex;
    },
  };
  const client = new ContractClient(env, deps.nextIp(), owner);
  const fail = (message: string, exchange?: Exchange): void => {
    state.findings.push({ message, requirement: check.id, ...(exchange ? { exchangeId: exchange.id } : {}) });
  };

  const ctx: CheckContext = {
    check,
    runId: deps.runId,
    options: deps.options,
    contract: deps.contract,
    client,
    call: (operationId: string, opts?: CallOptions) => client.call(operationId, opts),
    request: (method, path, opts) => client.request(method, path, opts),
    newClient: () => new ContractClient(env, deps.nextIp(), owner),
    accounts: undefined as never,
    ...(deps.harness ? { harness: deps.harness } : {}),
    ...(deps.mail ? { mail: deps.mail } : {}),
    serverTime: () => deps.serverTime(ctx),
    exchanges: () => deps.exchanges(),
    freshBudget: async (operationId, opts = {}) => {
      const ip = (opts.client ?? client).ip;
      const token = opts.token && deps.env.tracker.isLive(opts.token) ? opts.token : undefined;
      await deps.env.pacer.waitFresh(deps.contract.operation(operationId), { ip, ...(token ? { token } : {}) }, state.controller.signal);
    },
    sleep: (ms, why) =>
      new Promise((resolve, reject) => {
        if (ms >= 1000) deps.log?.(`  … ${check.id} waits ${(ms / 1000).toFixed(1)} s${why ? ` ${why}` : ''}`);
        state.sleptMs += ms;
        const timer = setTimeout(resolve, ms);
        state.controller.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('the check timed out'));
        });
      }),
    expect(condition, message, exchange) {
      if (!condition) fail(message, exchange);
      return !!condition;
    },
    require(condition, message, exchange): asserts condition {
      if (!condition) {
        fail(message, exchange);
        throw new CheckFailed(message);
      }
    },
    expectStatus(exchange, status, message) {
      const wanted = ([] as number[]).concat(status);
      if (wanted.includes(exchange.status)) return;
      const what = message ? `${message}: ` : '';
      const code = typeof exchange.body?.code === 'string' ? ` (${exchange.body.code})` : '';
      const reason = `${what}expected ${wanted.join(' or ')}, got ${exchange.status || exchange.error}${code} from ${exchange.request.method} ${new URL(exchange.request.url).pathname}`;
      fail(reason, exchange);
      throw new CheckFailed(reason);
    },
    fail(message, exchange) {
      fail(message, exchange);
      throw new CheckFailed(message);
    },
    skip(reason) {
      throw new CheckSkipped(reason);
    },
    note(message) {
      state.notes.push(message);
    },
    partial(what) {
      (state.notVerified ??= []).push(what);
    },
    warn(message, exchange) {
      (state.warnings ??= []).push({ message, requirement: check.id, ...(exchange ? { exchangeId: exchange.id } : {}) });
    },
    measured(measurement) {
      state.measurement = measurement;
    },
    defer: (description, action) => {
      state.deferred.push({ description: `${check.id}: ${description}`, action });
    },
  };
  (ctx as { accounts: CheckContext['accounts'] }).accounts = deps.accounts.factoryFor(ctx, () => state.findings.length === 0);
  return { ctx, state };
}
