import { parseArgs } from 'node:util';
import { resolveContract } from '../framework/contract-version.ts';
import { planRun, runConformance } from '../run.ts';
import { startReference } from './reference-server.ts';

// `npm run conformance:slow` (and a developer's loop): the whole suite, or `--only` some of
// it, against a fresh in-process reference server. `--no-client-ip` makes the server trust no
// header and `--no-harness` withholds the harness (no clock to move, no budget to reset), so
// the suite must pace itself through the documented limits in real time (many minutes).
// `--scrypt-log-n 15` (or SCRYPT_LOG_N=15) hashes passwords as a newcomer's `npm start` does
// (the server's default) instead of the self-tests' fast 2^10; the closing line counts the
// run's password-hashing calls, the hash cost the preflight measured and the estimate.
// `--contract 1.0.0` builds the server from that released snapshot and checks it against it.

const { values } = parseArgs({
  options: {
    'no-client-ip': { type: 'boolean', default: false },
    'no-harness': { type: 'boolean', default: false },
    only: { type: 'string' },
    skip: { type: 'string' },
    'report-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    'scrypt-log-n': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    contract: { type: 'string' },
  },
});

const list = (raw: string | undefined): string[] | undefined => (raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
const trust = !values['no-client-ip'];
const scryptLogN = Number(values['scrypt-log-n'] ?? process.env['SCRYPT_LOG_N'] ?? 10);
const contractPath = values.contract ? resolveContract(values.contract) : undefined;
const ref = await startReference({ trustClientIpHeader: trust, scryptLogN, ...(contractPath ? { contractPath } : {}) });
try {
  const only = list(values.only);
  const skip = list(values.skip);
  // `timeout 900 npm run conformance:slow`: on SIGTERM (or Ctrl-C) the checks not started are
  // skipped and the run still cleans up and prints its figures (unplanned 429 among them).
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupt.signal.aborted) process.exit(130);
      console.error(`\n${signal}: finishing the running checks, then cleaning up and reporting`);
      interrupt.abort();
    });
  }
  const options = {
    interrupt: interrupt.signal,
    baseUrl: ref.url,
    ...(contractPath ? { contractPath } : {}),
    tokenSigningKey: ref.tokenSigningKey,
    smtpPort: ref.smtpPort,
    ...(trust ? { clientIpHeader: ref.clientIpHeader! } : {}),
    ...(values['no-harness'] ? {} : { harnessUrl: ref.harnessUrl, harnessToken: ref.harnessToken }),
    ...(only ? { only } : {}),
    ...(skip ? { skip } : {}),
    reportDir: values['report-dir'] ?? null,
    // As the CLI unless told (defaultJobs): the independent checks overlap (schedule.ts says which).
    ...(values.jobs ? { jobs: Number(values.jobs) } : {}),
    ...(values.quiet ? { log: () => {} } : {}),
  };
  if (values['dry-run']) {
    for (const line of planRun(options)) console.log(line);
    process.exit(0);
  }
  const result = await runConformance(options);
  const calls = (operationId: string, statuses?: number[]): number =>
    result.exchanges.filter((e) => e.operationId === operationId && (!statuses || statuses.includes(e.status))).length;
  const notExercised = result.coverage.filter((c) => c.exercised === 0).map((c) => `${c.operationId} ${c.status}`);
  console.log(
    `\n${trust ? 'with' : 'WITHOUT'} a trusted client-ip header, ${values['no-harness'] ? 'WITHOUT' : 'with'} the harness: ${(result.durationMs / 1000).toFixed(1)} s, ` +
      `exit ${result.exitCode}, unplanned 429: ${result.unplanned429}, not exercised: ${notExercised.join(', ') || 'none'}`,
  );
  console.log(
    `scrypt 2^${scryptLogN}: ${calls('login')} logins (${calls('login', [200, 401, 403])} hashed a password), ${calls('register')} registrations (${calls('register', [201])} created), ` +
      `${calls('confirmPasswordReset', [200])} password resets, ${calls('changePassword', [200])} password changes; estimated ${(result.estimatedMs / 1000).toFixed(1)} s`,
  );
  process.exitCode = result.exitCode === 0 && result.unplanned429 === 0 ? 0 : 1;
} finally {
  await ref.close();
}
