import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP, parseCli } from '../cli-args.ts';
import { startReference, type RunningReference } from '../selftest/reference-server.ts';
import { statefulPlan } from './run.ts';

// `--stateful` on the command line: parsed, documented in --help, and run by the bin.

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

describe('--stateful on the command line', () => {
  it('parses --stateful, --stateful-runs and --stateful-steps, and refuses the counts without --stateful', () => {
    const parsed = parseCli(['--base-url', 'http://localhost:3000', '--stateful', '--stateful-runs', '7', '--stateful-steps', '12', '--seed', '42'], {});
    expect(parsed).toMatchObject({ stateful: true, statefulRuns: 7, statefulSteps: 12, seed: 42 });
    expect(() => parseCli(['--base-url', 'http://localhost:3000', '--stateful-runs', '7'], {})).toThrow(/need --stateful/u);
    expect(() => parseCli(['--base-url', 'http://localhost:3000', '--stateful', '--stateful-steps', '0'], {})).toThrow(/--stateful-steps must be an integer/u);
    expect(HELP('x')).toMatch(/--stateful-runs N/u);
  });

  it('--dry-run prints the stateful plan, saying which steps are left out and why', () => {
    const lines = statefulPlan({ baseUrl: 'http://localhost:3000', stateful: true, statefulRuns: 3, statefulSteps: 9, seed: 5 });
    expect(lines[0]).toMatch(/3 sequences of at most 9 steps/u);
    expect(lines.join('\n')).toMatch(/seed: 5/u);
    expect(lines.join('\n')).toMatch(/deactivation \(needs --harness-url\); password reset \(needs --smtp-port\)/u);
  });

  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference();
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('runs from the bin against the reference server, prints its seed and exits 0', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, '--base-url', ref.url, '--stateful', '--seed', '7', '--stateful-runs', '4', '--stateful-steps', '10', '--client-ip-header', ref.clientIpHeader!, '--harness-url', ref.harnessUrl, '--smtp-port', String(ref.smtpPort), '--report-dir', '/nonexistent-not-written'],
        { env: { ...process.env, QUAZZAR_HARNESS_TOKEN: ref.harnessToken }, timeout: 90_000 },
        (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err }),
      );
    });
    expect(code, stderr + stdout).toBe(0);
    expect(stdout).toMatch(/seed: 7 \(replay with --stateful --seed 7/u);
    expect(stdout).toMatch(/stateful: 4 sequences passed/u);
  }, 120_000);
});
