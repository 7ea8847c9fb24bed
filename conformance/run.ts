import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allChecks, AREAS } from './checks/index.ts';
import { AccountPool } from './framework/accounts.ts';
import { cleanUp } from './framework/cleanup.ts';
import { ContractClient, type ClientEnv } from './framework/client.ts';
import { loadContract } from './framework/contract.ts';
import { compareContracts, fetchDeployedContract } from './framework/contract-version.ts';
import { notInContract } from './framework/features.ts';
import { coverageMatrix } from './framework/coverage.ts';
import { ASSUMED_HASH_MS, budgetFloor, estimateParts, formatDuration, jobsHint, SHARED_ADDRESS_JOBS, type EstimateParts } from './framework/estimate.ts';
import { createHarness } from './framework/harness.ts';
import './framework/options.ts';
import { RequestGate } from './framework/gate.ts';
import { Pacer } from './framework/pacer.ts';
import { Implementation, profileTable, selectProfiles } from './framework/profiles.ts';
import { NEED_REASON, runChecks } from './framework/runner.ts';
import { requirementResults } from './framework/requirements.ts';
import { Tracker } from './framework/tracker.ts';
import { closeTransport, configureTls } from './framework/transport.ts';
import { measureHashMs, preflight } from './framework/preflight.ts';
import type { CheckDef, Contract, Exchange, Harness, MailSink, Need, RunOptions, RunResult } from './framework/types.ts';
import { startMailSink } from './lib/smtp-sink.ts';
import { writeReports } from './report/write.ts';
import { writeHar } from './report/har.ts';
import { consoleSummary } from './report/console.ts';
import { contractInfo } from './report/contract-info.ts';
import { annotateEvidence } from './requirements/pointers.ts';

// The suite as a function: the CLI and the self-test both call runConformance().

export const DEFAULT_CONTRACT = fileURLToPath(new URL('../generated/openapi.json', import.meta.url));
export const DEFAULT_HARNESS_CONTRACT = fileURLToPath(new URL('../generated/harness.json', import.meta.url));
const DEFAULT_TIMEOUT_MS = 120_000;

/** `--only` / `--skip` entries are areas (`login`) or requirement ids (`LOGIN-03`). */
export function selectChecks(checks: CheckDef[], only?: string[], skip?: string[]): CheckDef[] {
  const matches = (check: CheckDef, list: string[]): boolean => list.some((item) => selects(item, check));
  return checks.filter((c) => (!only?.length || matches(c, only)) && !(skip?.length && matches(c, skip)));
}

/** An area, a requirement id, or a glob over ids (`LOGIN-*`, `TOTP-0?`), any letter case. */
export function selects(item: string, check: Pick<CheckDef, 'id' | 'area'>): boolean {
  if (item.toLowerCase() === check.area.toLowerCase()) return true;
  if (!/[*?]/u.test(item)) return item.toUpperCase() === check.id.toUpperCase();
  const pattern = item.replace(/[.+^${}()|[\]\\]/gu, '\\$&').replace(/\*/gu, '.*').replace(/\?/gu, '.');
  return new RegExp(`^${pattern}$`, 'iu').test(check.id);
}

/** `--jobs` unless given: 4 with a client-ip header (every check has its own address; the
 * deployment hashes one password at a time, so more would only queue); 8 with neither header
 * nor harness (one address: every call is paced to the documented budgets whatever the number,
 * and most checks are waiting for a window or a TOTP step — eight lanes keep every budget's
 * windows busy); 1 with a harness but no header (every wait is a harness reset there: nothing
 * to overlap). */
export function defaultJobs(options: Pick<RunOptions, 'jobs' | 'clientIpHeader' | 'harnessUrl'>): number {
  return options.jobs ?? (options.clientIpHeader ? 4 : options.harnessUrl ? 1 : SHARED_ADDRESS_JOBS);
}

/** `--dry-run`: the plan — which checks run, which are skipped and why, the estimated time
 * (pacing waits; the password-hash cost is measured only by a real run) — sending nothing. */
export function planRun(options: RunOptions): string[] {
  const contract = loadContract(options.contractPath ?? DEFAULT_CONTRACT);
  const capabilities: Record<Need, boolean> = { smtp: options.smtpPort !== undefined, harness: !!options.harnessUrl, clientIp: !!options.clientIpHeader };
  const checks = selectProfiles(selectChecks(allChecks, options.only, options.skip), options.profiles);
  const lines = [`plan against ${options.baseUrl}: ${checks.length} checks, ${defaultJobs(options)} at a time (--jobs); capabilities: ${Object.entries(capabilities).map(([k, v]) => `${k} ${v ? 'yes' : 'no'}`).join(', ')}`];
  const runnable: CheckDef[] = [];
  for (const c of checks) {
    const missing = (c.needs ?? []).filter((n) => !capabilities[n]);
    const absent = notInContract(c, contract);
    if (absent) lines.push(`  SKIP ${c.id.padEnd(12)} ${absent}`);
    else if (missing.length) lines.push(`  SKIP ${c.id.padEnd(12)} ${missing.map((n) => NEED_REASON[n]).join('; ')}`);
    else {
      runnable.push(c);
      lines.push(`  RUN  ${c.id.padEnd(12)} ${c.level.padEnd(6)} ${c.title}`);
    }
  }
  // The hash is the deployment's (its scrypt cost, its cores, its load): a real run measures it
  // first; the plan takes the one the last run against this deployment measured, else assumes
  // one, and says how much the estimate moves with it.
  const last = lastMeasuredHash(options);
  const hashMs = last?.hashMs ?? ASSUMED_HASH_MS;
  const mode = { clientIp: !!options.clientIpHeader, harness: !!options.harnessUrl, jobs: defaultJobs(options), hashMs };
  const parts = estimateParts(runnable, contract, mode);
  lines.push(
    `estimated run time: ${formatDuration(parts.totalMs)}${jobsHint(runnable, contract, mode)}, counting ${parts.hashes} password hashes at ${Math.round(hashMs)} ms ` +
      (last
        ? `(measured by run ${last.runId} against this deployment, ${last.startedAt}; hashed one at a time)`
        : `(assumed: scrypt N=2^15 hashed one at a time; a real run measures the deployment's hash first)`),
  );
  lines.push(`  of which ${waitsLine(parts)}`);
  const slower = estimateParts(runnable, contract, { ...mode, hashMs: hashMs + 100 }).totalMs - parts.totalMs;
  if (parts.hashes) lines.push(`  each 100 ms more per password hash adds ${formatDuration(slower)} (a real run measures the deployment's hash before it starts)`);
  if (!options.clientIpHeader && !options.harnessUrl) {
    lines.push(
      '  (no client-ip header and no harness: the suite waits for rate-limit windows to reopen; up to a minute more when this address sent the deployment budgeted requests in the last minute — RATE-01 needs fresh windows and waits them out)',
    );
    const floor = budgetFloor(runnable, contract, mode);
    if (floor) {
      lines.push(
        `  floor: ${floor.calls} counted ${floor.policy} calls at ${floor.limit} per ${floor.windowSeconds} s from one address need at least ${formatDuration(floor.ms)} ` +
          '(whole windows no --jobs can overlap; a client-ip header or the harness lifts it)',
      );
    }
  }
  return lines;
}

/** The hash cost the last run against the same base URL measured: its report.json in
 * `--report-dir` (a `--dry-run` sends nothing, so it cannot measure one). */
function lastMeasuredHash(options: RunOptions): { hashMs: number; runId: string; startedAt: string } | undefined {
  if (options.reportDir === null) return undefined;
  const file = join(options.reportDir ?? 'reports/conformance', 'report.json');
  if (!existsSync(file)) return undefined;
  try {
    const last = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunResult>;
    const same = typeof last.baseUrl === 'string' && last.baseUrl.replace(/\/+$/u, '') === options.baseUrl.replace(/\/+$/u, '');
    return same && typeof last.hashMs === 'number' && last.hashMs > 0 ? { hashMs: last.hashMs, runId: String(last.runId), startedAt: String(last.startedAt) } : undefined;
  } catch {
    return undefined; // not a report of this suite: assume
  }
}

export async function runConformance(given: RunOptions): Promise<RunResult> {
  // The generative checks' seed: fixed by --seed, else random — printed and reported either way.
  const options: RunOptions = { ...given, seed: given.seed ?? randomInt(2 ** 31) };
  const log = options.log ?? ((line: string) => console.log(line));
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const baseUrl = options.baseUrl.replace(/\/+$/u, '');
  const contractPath = options.contractPath ?? DEFAULT_CONTRACT;
  const contract = loadContract(contractPath);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const startedAt = new Date();
  const started = performance.now();

  const exchanges: Exchange[] = [];
  const tracker = new Tracker();
  let harness: Harness | undefined;
  const ipPool = clientAddresses();
  const pacer = harnessPacer(contract, log, () => harness);
  const lastDate = { value: Number.NaN, at: 0 };
  const env: ClientEnv = {
    contract,
    pacer,
    tracker,
    baseUrl,
    ...(options.clientIpHeader ? { clientIpHeader: options.clientIpHeader } : {}),
    timeoutMs: Math.min(timeoutMs, 30_000),
    implementation: new Implementation(),
    gate: new RequestGate(),
    ...(options.headers ? { extraHeaders: options.headers } : {}),
    record(draft) {
      const ex: Exchange = { id: exchanges.length + 1, ...draft };
      exchanges.push(ex);
      const date = Date.parse(ex.headers['date'] ?? '');
      if (!Number.isNaN(date)) Object.assign(lastDate, { value: date + 500, at: Date.now() });
      return ex;
    },
  };
  if (options.harnessUrl && options.harnessToken) {
    const harnessContractPath = options.harnessContractPath ?? DEFAULT_HARNESS_CONTRACT;
    const harnessContract = existsSync(harnessContractPath) ? loadContract(harnessContractPath) : undefined;
    harness = createHarness({ url: options.harnessUrl, token: options.harnessToken, timeoutMs: 10_000, pacer, tracker, ...(harnessContract ? { contract: harnessContract } : {}) });
  }
  // A deployment that cannot be reached, or serves something else, is a usage problem, not 70
  // failed checks.
  if (options.insecure || options.ca) configureTls({ ...(options.insecure ? { insecure: true } : {}), ...(options.ca ? { ca: options.ca } : {}) });
  // With one address and no harness every budgeted call before RATE-01 costs the run a minute
  // (RATE-01 waits for fresh windows): a deployment that publishes its contract is known to be
  // this API by it, and the health probe is sent (and counted) only when it publishes none.
  const spareBudgets = !options.clientIpHeader && !harness;
  // Which contract does the deployment serve? A version mismatch explains a run of failures.
  const served = await fetchDeployedContract(baseUrl, options.headers ?? {});
  if (!spareBudgets || !served.document) {
    await preflight(baseUrl, contract, options.headers);
    const health = contract.operations.find((op) => op.operationId === 'getHealth');
    if (spareBudgets && health) pacer.settle(health, { ip: 'self' }, await pacer.acquire(health, { ip: 'self' }, false), { status: 200, headers: {} });
  }
  if (served.date !== undefined && Number.isNaN(lastDate.value)) Object.assign(lastDate, { value: served.date, at: Date.now() });
  const deployedContract = compareContracts(contract.document, served.document, served.url);
  let mail: MailSink | undefined;
  if (options.smtpPort !== undefined) mail = await startMailSink({ host: options.smtpHost ?? '127.0.0.1', port: options.smtpPort });

  const capabilities: Record<Need, boolean> = { smtp: !!mail, harness: !!harness, clientIp: !!options.clientIpHeader };
  const checks = selectProfiles(selectChecks(allChecks, options.only, options.skip), options.profiles);
  const runnable = checks.filter((c) => (c.needs ?? []).every((need) => capabilities[need]) && !notInContract(c, contract));
  // What the deployment's password hashing adds (the pacing model alone ignores it). With one
  // address and no harness it is not measured up front (a login now would hold RATE-01 back a
  // minute): the last run against this deployment measured it, or it is assumed, and this run
  // measures it from its own logins for the next one (`hashFromRun`).
  const lastHash = spareBudgets ? lastMeasuredHash(options) : undefined;
  const hashMs = spareBudgets ? (lastHash?.hashMs ?? ASSUMED_HASH_MS) : await measureHashMs(new ContractClient(env, options.clientIpHeader ? ipPool() : 'self', { checkId: 'preflight' }), 3);
  // Where the deployment's clock is in its TOTP step (its Date header): the first TOTP step a
  // check waits for is that far away, not half a step on average.
  const serverNow = lastDate.value + (Date.now() - lastDate.at);
  const mode = { clientIp: !!options.clientIpHeader, harness: !!harness, jobs: defaultJobs(options), hashMs, ...(Number.isNaN(serverNow) ? {} : { stepPhaseMs: serverNow % 30_000 }) };
  const parts = estimateParts(runnable, contract, mode);
  const estimatedMs = parts.totalMs;
  log(`quazzar-conformance run ${runId} against ${baseUrl}`);
  log(`  ${deployedContract.match === 'other-version' || deployedContract.match === 'same-version' ? 'WARNING: ' : ''}${deployedContract.message}`);
  log(`  contract: ${contract.operations.length} operations; ${checks.length} checks in ${AREAS.filter((a) => checks.some((c) => c.area === a)).join(', ') || 'no area'}`);
  log(`  seed: ${options.seed} (generative checks; replay with --seed ${options.seed})`);
  log(`  capabilities: ${Object.entries(capabilities).map(([k, v]) => `${k} ${v ? 'yes' : 'no'}`).join(', ')}`);
  log(
    `  password hash: ${spareBudgets ? `not measured before the run (one address: a login now would hold the rate-limit checks back a minute); taken as ${Math.round(hashMs)} ms, ${lastHash ? `measured by run ${lastHash.runId}` : 'assumed'}` : `about ${Math.round(hashMs)} ms`} per login/register (${parts.hashes} hashes planned: ${formatDuration(parts.hashes * hashMs)})`,
  );
  log(`  estimated run time: ${formatDuration(estimatedMs)}${jobsHint(runnable, contract, mode)}${options.clientIpHeader ? '' : ` (no client-ip header: the suite paces itself to the documented limits${spareBudgets ? '; up to a minute more when this address sent budgeted requests in the last minute' : ''})`}`);
  log(`    of which ${waitsLine(parts)}`);

  const leftBehind: string[] = [];
  const deps = {
    runId,
    options,
    contract,
    env,
    accounts: new AccountPool(runId, tracker, { retireTotp: !!options.clientIpHeader || !!harness }),
    ...(harness ? { harness } : {}),
    ...(mail ? { mail } : {}),
    nextIp: () => (options.clientIpHeader ? ipPool() : 'self'),
    serverTime: async (ctx: { call: ContractClient['call'] }) => {
      if (harness) return harness.now();
      if (Date.now() - lastDate.at > 5000) await ctx.call('getHealth');
      if (Number.isNaN(lastDate.value)) throw new Error('the deployment sends no Date header: cannot tell its time');
      return lastDate.value + (Date.now() - lastDate.at);
    },
    leftBehind,
    ...(options.interrupt ? { interrupt: options.interrupt } : {}),
    capabilities,
    exchanges: () => exchanges,
    timeoutMs,
    log,
    jobs: defaultJobs(options),
    ...(options.failFast ? { failFast: true } : {}),
  };

  let results;
  try {
    results = await runChecks(checks, deps);
    const cleanupStarted = performance.now();
    log(`checks done in ${formatDuration(cleanupStarted - started)}; cleaning up…`);
    const { implementation: _ignored, ...cleanupEnv } = env;
    const cleaner = new ContractClient(cleanupEnv, options.clientIpHeader ? ipPool() : 'self', { checkId: 'cleanup' });
    // What the final cleanup could not undo first, then the checks' own cleanups that failed.
    leftBehind.unshift(...(await cleanUp({ client: cleaner, tracker, ...(harness ? { harness } : {}), runId, contract })));
    log(`cleanup done in ${formatDuration(performance.now() - cleanupStarted)}`);
  } finally {
    await mail?.close();
    closeTransport();
  }

  const { cells, undocumented } = coverageMatrix(contract, exchanges);
  const requirements = requirementResults(exchanges);
  const all = [...results, ...requirements];
  // The checks run, and apart from them the CONTRACT-* requirements their answers were judged by.
  const count = (list: typeof all) => ({
    pass: list.filter((r) => r.outcome === 'pass').length,
    fail: list.filter((r) => r.outcome === 'fail').length,
    warn: list.filter((r) => r.outcome === 'warn').length,
    skip: list.filter((r) => r.outcome === 'skip').length,
    partial: list.filter((r) => r.outcome === 'partial').length,
    mustFailed: list.filter((r) => r.outcome === 'fail' && r.level === 'MUST').length,
  });
  const summary = count(results);
  const contractSummary = count(requirements);
  const result: RunResult = {
    runId,
    baseUrl,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    estimatedMs,
    capabilities,
    checks: results,
    requirements,
    exchanges,
    coverage: cells,
    undocumented,
    unplanned429: exchanges.filter((e) => e.unplanned429).length,
    leftBehind,
    summary,
    contractSummary,
    contract: contractInfo(contractPath),
    // A selection of the checks proves no conformance (docs/DECISIONS.md, "What a subset run may claim").
    ...(checks.length < allChecks.length ? { subset: { run: checks.length, of: allChecks.length } } : {}),
    ...(options.strict ? { strict: true } : {}),
    deployedContract,
    ...(options.interrupt?.aborted ? { interrupted: true } : {}),
    exitCode: summary.mustFailed + contractSummary.mustFailed === 0 && !(options.strict && all.some((r) => r.outcome === 'partial')) ? 0 : 1,
  };
  const measuredHash = spareBudgets ? hashFromRun(exchanges) : hashMs;
  if (measuredHash !== undefined) result.hashMs = Math.round(measuredHash);
  result.notImplemented = env.implementation!.entries();
  result.seed = options.seed!;
  result.profiles = profileTable(contract, results, result.notImplemented, !!harness);
  annotateEvidence(result, contract); // cited SEC texts and contract pointers, for the reports
  for (const line of consoleSummary(result)) log(line);
  // Said again next to the verdict: a version mismatch explains the failures above it.
  if (deployedContract.match === 'other-version' || deployedContract.match === 'same-version') log(`WARNING: ${deployedContract.message}`);
  if (options.harPath) {
    await writeHar(result, options.harPath);
    log(`HAR: ${options.harPath}`);
  }
  if (options.reportDir !== null) {
    const written = await writeReports(result, options.reportDir ?? 'reports/conformance');
    log(`reports: ${written.join(', ')}`);
  }
  return result;
}

/** The estimate's waits, said before the run: none of a run's minutes is unannounced. */
function waitsLine(parts: EstimateParts): string {
  const items = [
    `password hashing ${formatDuration(parts.hashingMs)}`,
    parts.totpMs ? `waiting for TOTP time steps ${formatDuration(parts.totpMs)} (no harness clock to move)` : '',
    parts.windowMs ? `waiting out rate-limit windows and Retry-After ${formatDuration(parts.windowMs)} (no harness clock to move)` : '',
    `final cleanup ${formatDuration(parts.cleanupMs)}`,
  ];
  return `${items.filter(Boolean).join(', ')}; the rest is requests${parts.totpMs || parts.windowMs ? ' (waits overlap under --jobs)' : ''}`;
}

/**
 * The address the deployment sees for the suite is not known to the suite; the harness says
 * how many budgets it cleared, so the first candidate (loopback and local interface addresses)
 * that clears something is the one — remembered for the next waits.
 */
let ownAddress: string | undefined;

/** What a password hash cost the deployment, read from a run's own answers as the preflight
 * measures it: the fastest login answered 401 (it hashed a password or a dummy) minus the
 * fastest health answer; undefined when the run made neither. */
export function hashFromRun(exchanges: readonly Exchange[]): number | undefined {
  const fastest = (operationId: string, status: number) => Math.min(...exchanges.filter((e) => e.operationId === operationId && e.status === status).map((e) => e.durationMs));
  const login = fastest('login', 401);
  const health = fastest('getHealth', 200);
  return Number.isFinite(login) && Number.isFinite(health) ? Math.max(0, login - health) : undefined;
}

/**
 * The suite's pacer: budgets from the contract; with a harness (read when a budget is spent:
 * it is set up after the pacer), a spent budget the harness can name is reset instead of waited
 * for — an address (simulated, or the suite's own once found) or an account.
 */
export function harnessPacer(contract: Contract, log: (line: string) => void, harnessOf: () => Harness | undefined): Pacer {
  const pacer: Pacer = new Pacer(contract, {
    log,
    reset: async (policy, id) => {
      const key = id.slice(id.indexOf('|') + 1);
      const harness = harnessOf();
      if (!harness) return false;
      if (key === 'ip:self') {
        const cleared = await resetOwnAddress(harness);
        if (cleared) pacer.forget((other) => other.endsWith('|ip:self'));
        return cleared;
      }
      if (key.startsWith('ip:')) return (await harness.resetRateLimits({ ip: key.slice(3) })) >= 0;
      if (key.startsWith('account:') && policy.key === 'account') return (await harness.resetRateLimits({ email: key.slice(8) })) >= 0;
      return false;
    },
  });
  return pacer;
}

export async function resetOwnAddress(harness: Harness): Promise<boolean> {
  // Nothing cleared: another deployment sees another address (or the budget had run out).
  if (ownAddress && (await harness.resetRateLimits({ ip: ownAddress })) > 0) return true;
  ownAddress = undefined;
  const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  const candidates = [...new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1', ...local, ...local.filter((a) => !a.includes(':')).map((a) => `::ffff:${a}`)])];
  for (const ip of candidates) {
    if ((await harness.resetRateLimits({ ip })) > 0) {
      ownAddress = ip;
      return true;
    }
  }
  return false;
}

/** Simulated client addresses from 198.18.0.0/15 (RFC 2544 benchmarking range), starting at a
 * random point so that consecutive runs against one deployment do not share budgets. */
function clientAddresses(): () => string {
  let n = randomBytes(2).readUInt16BE(0) * 2;
  return () => {
    n = (n + 1) % 131072;
    return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  };
}
