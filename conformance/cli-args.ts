import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import './framework/options.ts';
import './stateful/options.ts';
import type { RunOptions } from './framework/types.ts';
import { resolveContract } from './framework/contract-version.ts';
import { allChecks } from './checks/index.ts';

// The command line, parsed and checked apart from running (so it can be tested).

export const HELP = (defaultContract: string): string => `quazzar-conformance — prove a deployment of the Quazzar Space auth API against its contract

Usage: quazzar-conformance --base-url URL [options]

  --base-url URL            the deployment to test (required), e.g. http://localhost:3000
  --smtp-port N             listen for the deployment's mail on this port (real SMTP, no auth):
                            point the deployment's SMTP at it; enables the password-reset checks
  --smtp-host HOST          address the SMTP sink listens on (default 127.0.0.1)
  --client-ip-header NAME   a header the deployment trusts for the client address (e.g.
                            x-forwarded-for); the suite then simulates one client per check, so
                            rate-limit budgets rarely bind and per-client limits can be tested
  --harness-url URL         the conformance harness (e.g. http://localhost:3000/__harness):
                            server clock, account (de)activation, budget resets
  --harness-token TOKEN     its bearer token (or env QUAZZAR_HARNESS_TOKEN)
  --only LIST               run only these areas, requirement ids or id globs (comma
                            separated; LOGIN-*, TOTP-0?)
  --skip LIST               skip these areas, requirement ids or id globs (comma separated)
  --report-dir DIR          where junit.xml, report.json and report.html go
                            (default reports/conformance)
  --contract PATH|VERSION   the bundled OpenAPI document, or a released version (e.g. 1.0.0:
                            openapi/releases/1.0.0.json, shipped with the suite); default: the
                            one shipped with the suite, ${defaultContract}
  --timeout-ms N            per-check timeout in ms (default 120000)
  --profile LIST            run only the checks of these feature profiles (comma separated):
                            core, totp, password-reset, api-keys (keys and projects), harness.
                            Without it every profile runs; a documented operation answering the
                            global 404 is reported once as NOT IMPLEMENTED and the checks that
                            need it are SKIPPED (not failed)
  --jobs N                  run independent checks N at a time (default 4 with
                            --client-ip-header, 8 with neither it nor a harness, else 1;
                            checks that move
                            the harness clock, time answers or judge the whole run still run
                            alone; without --client-ip-header all share one address, so the
                            checks that drive or judge a rate limit run alone too, the others
                            overlap their waits for the documented windows — every call is
                            paced to them whatever N — and a timing check's samples are sent
                            while no other request is in flight)
  --header 'Name: value'    send this header with every request (repeatable), e.g. a gateway
                            key; its value is masked in every report
  --insecure                accept any TLS certificate of the deployment
  --ca FILE                 trust these PEM certificate authorities as well
  --token-signing-key-file FILE
                            the deployment's HS256 session-token key (test deployments
                            only; or env QUAZZAR_TOKEN_SIGNING_KEY): SESSIONS-08 then checks
                            that correctly signed tokens with a wrong iss/aud/typ are refused
  --fail-fast               start no check after the first MUST failure (cleanup and reports
                            still happen)
  --strict                  a PARTIAL check (part of its requirement not verified, e.g. no
                            harness clock to wait out a lock) fails the exit status too
  --seed N                  seed of the generated requests (GEN-01, GEN-02; printed in every report,
                            random by default): replays a run's generated requests
  --max-examples N          generated requests per operation (default 8)
  --stateful                instead of the checks: random sequences over one account's lifecycle
                            (register, login with/without TOTP or backup code, logout, password
                            change, TOTP provision/verify/disable, reset request/confirm,
                            projects, API keys, deactivation through the harness), every answer
                            checked against a model of the account's state (fast-check); a
                            failure is shrunk to the shortest sequence and printed as a curl
                            script (also reports/…/stateful-repro.sh); --seed replays it
  --stateful-runs N         sequences to try (default 25; each on a fresh account)
  --stateful-steps N        at most N steps per sequence (default 20)
  --har FILE                write every exchange as an HTTP Archive (secrets masked)
  --dry-run                 print the plan (checks, skips with reasons, estimated time) and
                            send nothing
  --list                    list the checks (id, level, area, needs) and exit
  --version                 the suite's version
  --help                    this text

${wrap(`Areas: ${areas().join(', ')}.`)}
Without --client-ip-header the suite paces itself to the documented limits
(it prints its estimated run time first). Checks needing what was not offered (SMTP sink,
harness, client-ip header) are reported as SKIPPED with the reason.

Exit status: 0 no MUST requirement failed; 1 at least one did; 2 usage error or unreachable
base URL (or not this API); 130 interrupted (Ctrl-C; the partial report is still written).`;

/** The areas of the registered checks, in the suite's order (never a hand-kept list). */
export function areas(): string[] {
  return [...new Set(allChecks.map((c) => c.area))];
}

/** Words wrapped at 95 columns. */
function wrap(text: string): string {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    if (lines.length && `${lines.at(-1)} ${word}`.length <= 95) lines[lines.length - 1] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join('\n');
}

export class UsageError extends Error {}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): RunOptions | 'help' | 'list' | 'version' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'base-url': { type: 'string' },
      'smtp-port': { type: 'string' },
      'smtp-host': { type: 'string' },
      'client-ip-header': { type: 'string' },
      'harness-url': { type: 'string' },
      'harness-token': { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      'report-dir': { type: 'string' },
      contract: { type: 'string' },
      'timeout-ms': { type: 'string' },
      jobs: { type: 'string' },
      profile: { type: 'string' },
      list: { type: 'boolean' },
      header: { type: 'string', multiple: true },
      insecure: { type: 'boolean' },
      ca: { type: 'string' },
      'token-signing-key-file': { type: 'string' },
      'fail-fast': { type: 'boolean' },
      strict: { type: 'boolean' },
      seed: { type: 'string' },
      'max-examples': { type: 'string' },
      har: { type: 'string' },
      stateful: { type: 'boolean' },
      'stateful-runs': { type: 'string' },
      'stateful-steps': { type: 'string' },
      'dry-run': { type: 'boolean' },
      version: { type: 'boolean', short: 'V' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (values.list) return 'list';
  if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  const baseUrl = values['base-url'];
  if (!baseUrl) throw new UsageError('--base-url is required');
  if (!/^https?:\/\/[^/]+/u.test(baseUrl)) throw new UsageError(`--base-url must be an http(s) URL, got ${baseUrl}`);
  const integer = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer ${min}..${max}, got ${value}`);
    return n;
  };
  const list = (value: string | undefined): string[] | undefined =>
    value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);
  const harnessToken = values['harness-token'] ?? env['QUAZZAR_HARNESS_TOKEN'];
  if (values['harness-url'] && !harnessToken) throw new UsageError('--harness-url needs --harness-token (or QUAZZAR_HARNESS_TOKEN)');
  const header = values['client-ip-header'];
  if (header !== undefined && !/^[A-Za-z0-9-]+$/u.test(header)) throw new UsageError(`--client-ip-header must be a header name, got ${header}`);
  const smtpPort = integer('smtp-port', values['smtp-port'], 0, 65535);
  const timeoutMs = integer('timeout-ms', values['timeout-ms'], 1000, 3_600_000);
  const jobs = integer('jobs', values.jobs, 1, 64);
  const seed = integer('seed', values.seed, 0, 2 ** 31 - 1);
  const maxExamples = integer('max-examples', values['max-examples'], 1, 10_000);
  // --stateful (conformance/stateful/)
  const statefulRuns = integer('stateful-runs', values['stateful-runs'], 1, 100_000);
  const statefulSteps = integer('stateful-steps', values['stateful-steps'], 1, 1000);
  if ((statefulRuns !== undefined || statefulSteps !== undefined) && !values.stateful) throw new UsageError('--stateful-runs and --stateful-steps need --stateful');
  const only = list(values.only);
  const skip = list(values.skip);
  let contractPath: string | undefined;
  try {
    contractPath = values.contract ? resolveContract(values.contract) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const profiles = list(values.profile);
  const headers: Record<string, string> = {};
  for (const raw of values.header ?? []) {
    const at = raw.indexOf(':');
    const name = at > 0 ? raw.slice(0, at).trim() : '';
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/u.test(name)) throw new UsageError(`--header must be "Name: value", got ${raw}`);
    headers[name.toLowerCase()] = raw.slice(at + 1).trim();
  }
  let ca: string | undefined;
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca, 'utf8');
    } catch (error) {
      throw new UsageError(`--ca ${values.ca}: ${(error as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${values.ca} holds no PEM certificate`);
  }
  let tokenSigningKey = env['QUAZZAR_TOKEN_SIGNING_KEY'];
  if (values['token-signing-key-file'] !== undefined) {
    try {
      tokenSigningKey = readFileSync(values['token-signing-key-file'], 'utf8').replace(/\r?\n$/u, '');
    } catch (error) {
      throw new UsageError(`--token-signing-key-file ${values['token-signing-key-file']}: ${(error as Error).message}`);
    }
  }
  return {
    ...(tokenSigningKey ? { tokenSigningKey } : {}),
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(values.insecure ? { insecure: true } : {}),
    ...(ca ? { ca } : {}),
    ...(values['fail-fast'] ? { failFast: true } : {}),
    ...(values.strict ? { strict: true } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(maxExamples !== undefined ? { maxExamples } : {}),
    ...(values.har ? { harPath: values.har } : {}),
    ...(values.stateful ? { stateful: true } : {}),
    ...(statefulRuns !== undefined ? { statefulRuns } : {}),
    ...(statefulSteps !== undefined ? { statefulSteps } : {}),
    ...(values['dry-run'] ? { dryRun: true } : {}),
    baseUrl,
    ...(smtpPort !== undefined ? { smtpPort } : {}),
    ...(values['smtp-host'] ? { smtpHost: values['smtp-host'] } : {}),
    ...(header ? { clientIpHeader: header } : {}),
    ...(values['harness-url'] && harnessToken ? { harnessUrl: values['harness-url'], harnessToken } : {}),
    ...(only ? { only } : {}),
    ...(skip ? { skip } : {}),
    reportDir: values['report-dir'] ?? 'reports/conformance',
    ...(contractPath ? { contractPath } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(jobs !== undefined ? { jobs } : {}),
    ...(profiles ? { profiles } : {}),
  };
}
