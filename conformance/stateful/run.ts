import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { AccountPool, recipientLimit, strongPassword } from '../framework/accounts.ts';
import { cleanUp } from '../framework/cleanup.ts';
import { ContractClient, type ClientEnv } from '../framework/client.ts';
import { createContext, CheckFailed, type ContextDeps } from '../framework/context.ts';
import { loadContract } from '../framework/contract.ts';
import { createHarness } from '../framework/harness.ts';
import { preflight } from '../framework/preflight.ts';
import { Tracker } from '../framework/tracker.ts';
import { closeTransport, configureTls } from '../framework/transport.ts';
import type { CheckDef, Exchange, Harness, MailSink, RunOptions } from '../framework/types.ts';
import { startMailSink } from '../lib/smtp-sink.ts';
import { curlFor } from '../report/curl.ts';
import { maskText } from '../report/mask.ts';
import { DEFAULT_CONTRACT, DEFAULT_HARNESS_CONTRACT, harnessPacer } from '../run.ts';
import { documentsRevokedField, initialModel, ModelMismatch, stepArbitraries, type Model, type ModelContract, type Real, type StepRecord } from './model.ts';
import { DEFAULT_STATEFUL_RUNS, DEFAULT_STATEFUL_STEPS } from './options.ts';
import { existsSync } from 'node:fs';

// `--stateful`: fast-check model-based runs over one account's whole lifecycle. Each run
// registers a fresh account (its own simulated client address with a client-ip header), logs
// in once, then plays a random sequence of steps (model.ts), every answer checked against the
// model and validated against the contract by the suite's client. A failing sequence is
// shrunk by fast-check to the shortest one that still fails, and printed as a curl script.

export interface StatefulResult {
  seed: number;
  /** Sequences played, shrinking attempts included. */
  runs: number;
  failed: boolean;
  /** Why the (shrunk) sequence failed. */
  message?: string;
  /** The shrunk sequence's steps (the setup — register, login — not counted). */
  steps?: string[];
  /** fast-check's own account of its final counterexample (the steps that ran, comma separated). */
  counterexample?: string;
  /** The shrunk sequence as a shell script of curl commands, secrets masked. */
  script?: string;
  exchanges: Exchange[];
  durationMs: number;
  exitCode: 0 | 1;
}

const STATEFUL_CHECK: CheckDef = {
  id: 'STATEFUL',
  area: 'stateful',
  level: 'MUST',
  title: 'random sequences over the account lifecycle answer as the model of its state requires',
  run: async () => {},
};

interface FailedRun {
  setupIds: number[];
  steps: StepRecord[];
  error: unknown;
}

/** `--stateful --dry-run`: what a stateful run would do, sending nothing. */
export function statefulPlan(options: RunOptions): string[] {
  const runs = options.statefulRuns ?? DEFAULT_STATEFUL_RUNS;
  const steps = options.statefulSteps ?? DEFAULT_STATEFUL_STEPS;
  const left = [!options.harnessUrl && 'deactivation (needs --harness-url)', options.smtpPort === undefined && 'password reset (needs --smtp-port)'].filter(Boolean);
  return [
    `stateful plan against ${options.baseUrl}: ${runs} sequences of at most ${steps} steps, each on a fresh account (1 register + 1 login, then the steps)`,
    `  seed: ${options.seed ?? 'random (printed when the run starts)'}`,
    ...(left.length ? [`  steps left out: ${left.join('; ')}`] : []),
    options.clientIpHeader
      ? '  each sequence from its own simulated client address'
      : `  one client address: register allows ${loadContract(options.contractPath ?? DEFAULT_CONTRACT).operation('register').rateLimit?.limit ?? '?'} a window, so ${options.harnessUrl ? 'the harness resets the budgets' : 'the run waits for windows to reopen'}`,
  ];
}

export async function runStateful(given: RunOptions): Promise<StatefulResult> {
  const seed = given.seed ?? randomInt(2 ** 31);
  const options: RunOptions = { ...given, seed };
  const log = options.log ?? ((line: string) => console.log(line));
  const runs = options.statefulRuns ?? DEFAULT_STATEFUL_RUNS;
  const maxSteps = options.statefulSteps ?? DEFAULT_STATEFUL_STEPS;
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const baseUrl = options.baseUrl.replace(/\/+$/u, '');
  const contract = loadContract(options.contractPath ?? DEFAULT_CONTRACT);
  const started = performance.now();
  const exchanges: Exchange[] = [];
  const tracker = new Tracker();
  let harness: Harness | undefined;
  // Paced by the documented budgets; with a harness, a spent budget is reset instead of waited
  // for: a simulated address, the suite's own (found as the checks find it), or the account.
  const pacer = harnessPacer(contract, log, () => harness);
  const env: ClientEnv = {
    contract,
    pacer,
    tracker,
    baseUrl,
    ...(options.clientIpHeader ? { clientIpHeader: options.clientIpHeader } : {}),
    timeoutMs: Math.min(options.timeoutMs ?? 30_000, 30_000),
    ...(options.headers ? { extraHeaders: options.headers } : {}),
    record(draft) {
      const ex: Exchange = { id: exchanges.length + 1, ...draft };
      exchanges.push(ex);
      return ex;
    },
  };
  if (options.harnessUrl && options.harnessToken) {
    const path = options.harnessContractPath ?? DEFAULT_HARNESS_CONTRACT;
    harness = createHarness({ url: options.harnessUrl, token: options.harnessToken, timeoutMs: 10_000, pacer, tracker, ...(existsSync(path) ? { contract: loadContract(path) } : {}) });
  }
  if (options.insecure || options.ca) configureTls({ ...(options.insecure ? { insecure: true } : {}), ...(options.ca ? { ca: options.ca } : {}) });
  await preflight(baseUrl, contract, options.headers);
  let mail: MailSink | undefined;
  if (options.smtpPort !== undefined) mail = await startMailSink({ host: options.smtpHost ?? '127.0.0.1', port: options.smtpPort });

  const addresses = clientAddresses();
  const deps: ContextDeps = {
    runId,
    options,
    contract,
    env,
    accounts: new AccountPool(runId, tracker),
    ...(harness ? { harness } : {}),
    ...(mail ? { mail } : {}),
    nextIp: () => (options.clientIpHeader ? addresses() : 'self'),
    serverTime: async (ctx) => {
      if (harness) return harness.now();
      const health = await ctx.call('getHealth');
      const date = Date.parse(health.headers['date'] ?? '');
      if (Number.isNaN(date)) throw new Error('the deployment sends no Date header: cannot tell its time');
      return date + 500;
    },
    exchanges: () => exchanges,
  };
  const modelContract: ModelContract = {
    documentsRevoked: (id) => documentsRevokedField(contract, id),
    harness: !!harness,
    mail: !!mail,
    resetMailsPerWindow: recipientLimit(contract),
  };
  const missing = [!harness && 'deactivation (needs --harness-url)', !mail && 'password reset (needs --smtp-port)'].filter(Boolean);
  log(`quazzar-conformance --stateful run ${runId} against ${baseUrl}`);
  log(`  seed: ${seed} (replay with --stateful --seed ${seed} --stateful-runs ${runs} --stateful-steps ${maxSteps})`);
  log(`  ${runs} sequences of at most ${maxSteps} steps, each on a fresh account${options.clientIpHeader ? ' and client address' : ''}`);
  if (missing.length) log(`  steps left out: ${missing.join('; ')}`);
  log(`  API keys after a password change / TOTP enable: ${modelContract.documentsRevoked('changePassword') ? "checked against the answer's documented `revoked` field" : 'not documented, not checked (any documented answer accepted)'}`);

  let played = 0;
  let lastFailure: FailedRun | undefined;
  const property = fc.asyncProperty(fc.commands(stepArbitraries(modelContract), { maxCommands: maxSteps, size: 'max' }), async (commands) => {
    played += 1;
    const { ctx, state } = createContext(STATEFUL_CHECK, deps);
    const setupIds = () => state.exchangeIds.slice();
    const account = { email: deps.accounts.newEmail(), password: strongPassword(), fullName: `Stateful ${runId}`, id: '' };
    const model = initialModel();
    const real: Real = {
      ctx,
      account,
      sessions: [],
      devices: [],
      backupCodes: [],
      spentBackupCodes: [],
      resetTokens: [],
      oldPasswords: [],
      projects: [],
      keys: [],
      steps: [],
      exchangeIds: () => state.exchangeIds,
      contract: modelContract,
    };
    try {
      const registered = await ctx.call('register', { body: { email: account.email, password: account.password, full_name: account.fullName } });
      if (registered.status !== 201) throw new ModelMismatch(`setup: register answered ${registered.status}`, registered);
      // The tracker keeps its own record of the account for cleanup (it follows the password
      // changes it sees); the model's record is this one, changed only by the steps.
      const login = await ctx.call('login', { body: { email: account.email, password: account.password } });
      if (login.status !== 200 || typeof login.body?.access_token !== 'string') throw new ModelMismatch(`setup: login answered ${login.status}`, login);
      real.sessions.push(login.body.access_token);
      const ids = setupIds();
      await fc
        .asyncModelRun(() => ({ model, real }), commands)
        .catch((error: unknown) => {
          lastFailure = { setupIds: ids, steps: real.steps, error };
          throw error;
        })
        .finally(() => tellCleanup(model, real, tracker));
    } catch (error) {
      if (!lastFailure || lastFailure.steps !== real.steps) lastFailure = { setupIds: setupIds(), steps: real.steps, error };
      throw error;
    }
  });

  let details: fc.RunDetails<[Iterable<fc.AsyncCommand<object, Real>>]> | undefined;
  let result: StatefulResult;
  try {
    details = (await fc.check(property as never, { seed, numRuns: runs })) as typeof details;
    const failed = !!details?.failed && !!lastFailure;
    if (!failed) {
      if (details?.failed) throw details.errorInstance ?? new Error('fast-check failed without a failing run');
      result = { seed, runs: played, failed: false, exchanges, durationMs: Math.round(performance.now() - started), exitCode: 0 };
      log(`stateful: ${runs} sequences passed (${played} played, ${exchanges.length} exchanges) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } else {
      const failure = lastFailure!;
      const message = errorMessage(failure.error);
      const steps = failure.steps.map((s) => s.label);
      const script = curlScript(exchanges, failure, message, seed);
      const counterexample = String(details?.counterexample?.[0] ?? '').replace(/\s*\/\*replayPath=.*\*\/\s*$/su, '');
      result = { seed, runs: played, failed: true, message, steps, script, counterexample, exchanges, durationMs: Math.round(performance.now() - started), exitCode: 1 };
      log(`stateful: FAILED (seed ${seed}, ${played} sequences played, shrunk by fast-check to ${steps.length} step${steps.length === 1 ? '' : 's'})`);
      log(`  ${message}`);
      log('  shortest failing sequence (after registering a fresh account and logging in as session #0):');
      steps.forEach((s, i) => log(`    ${i + 1}. ${s}`));
      log('  as a curl script (secrets masked):');
      for (const line of script.split('\n')) log(`    ${line}`);
    }
  } finally {
    if (options.cleanup !== false) {
      const cleaner = new ContractClient(env, options.clientIpHeader ? addresses() : 'self', { checkId: 'cleanup' });
      const left = await cleanUp({ client: cleaner, tracker, ...(harness ? { harness } : {}), runId });
      if (left.length) log(`left behind: ${left.length} item(s): ${left.slice(0, 5).join('; ')}${left.length > 5 ? '; …' : ''}`);
    }
    await mail?.close();
    closeTransport();
  }
  if (result.failed && options.reportDir !== null) {
    const dir = options.reportDir ?? 'reports/conformance';
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'stateful-repro.sh'), `${result.script}\n`, { mode: 0o755 });
    log(`repro script: ${join(dir, 'stateful-repro.sh')}`);
  }
  return result;
}

/**
 * What the final cleanup cannot see in the exchanges, from the model: keys a reset, a
 * deactivation or a documented credential change revoked (nothing to revoke), and the
 * account's password after a reset (so it can log in to undo the rest), its TOTP state and
 * unspent backup codes.
 */
function tellCleanup(model: Model, real: Real, tracker: Tracker): void {
  model.keys.forEach((k, i) => {
    const tracked = tracker.apiKeys.get(real.keys[i]!.id);
    if (tracked && k.life === 'dead') tracked.revoked = true;
  });
  const email = real.account.email.toLowerCase();
  const account = tracker.accounts.get(email);
  if (account) account.password = real.account.password;
  // TOTP as the model knows it, with the backup codes not spent yet (cleanup disables with one).
  const totp = tracker.totp.get(email);
  if (totp || model.totp === 'enabled') tracker.totp.set(email, { ...totp, enabled: model.totp === 'enabled', backupCodes: [...real.backupCodes] });
}

function errorMessage(error: unknown): string {
  if (error instanceof ModelMismatch || error instanceof CheckFailed) return maskText(error.message);
  return maskText(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}

/** The failing sequence's exchanges as a commented shell script, masked (reports/curl.ts). */
function curlScript(exchanges: Exchange[], failure: FailedRun, message: string, seed: number): string {
  const byId = new Map(exchanges.map((e) => [e.id, e]));
  const lines = [
    '#!/bin/sh',
    `# quazzar-conformance --stateful, seed ${seed}: the shortest failing sequence.`,
    '# Secrets (passwords, tokens, codes, keys) are masked as ***: put the values of your own run back.',
    `# failure: ${message.replace(/\n/gu, ' ')}`,
  ];
  const emit = (label: string, ids: number[]): void => {
    lines.push('', `# ${label}`);
    for (const id of ids) {
      const ex = byId.get(id);
      if (!ex) continue;
      lines.push(curlFor(ex), `# → ${ex.status}${typeof ex.body?.code === 'string' ? ` ${ex.body.code}` : ''}`);
    }
  };
  emit('setup: register a fresh account, log in (session #0)', failure.setupIds);
  failure.steps.forEach((s, i) => emit(`step ${i + 1}: ${s.label}`, s.exchangeIds));
  return lines.join('\n');
}

/** Simulated client addresses from 198.18.0.0/15 (as the checks use), one per sequence. */
function clientAddresses(): () => string {
  let n = randomBytes(2).readUInt16BE(0) * 2;
  return () => {
    n = (n + 1) % 131072;
    return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  };
}

declare module '../framework/types.ts' {
  interface RunOptions {
    /** Stateful runs: `false` leaves the sequences' keys, sessions and TOTP as they are (self-tests). */
    cleanup?: boolean;
  }
}
