import { afterEach, describe, expect, it } from 'vitest';
import { startReference, type RunningReference } from '../selftest/reference-server.ts';
import { sequenceFaults } from '../selftest/variants/sequence-faults.ts';
import { runStateful } from './run.ts';

// `--stateful` in-process, with every capability (client-ip header, harness, SMTP sink) and
// the fast scrypt cost: a fixed seed passes against the reference server, and each planted
// server-side sequence bug (conformance/selftest/variants/sequence-faults.ts) is found and shrunk to at most 5 steps.

const SEED = 20261207;
/** The same budget for the reference and the faulty servers: what fails below passes above. */
const RUNS = 100;
const STEPS = 25;

let ref: RunningReference | undefined;
afterEach(async () => {
  await ref?.close();
  ref = undefined;
});

const options = (r: RunningReference, runs: number, steps: number) => ({
  baseUrl: r.url,
  seed: SEED,
  statefulRuns: runs,
  statefulSteps: steps,
  smtpPort: r.smtpPort,
  clientIpHeader: r.clientIpHeader!,
  harnessUrl: r.harnessUrl,
  harnessToken: r.harnessToken,
  reportDir: null,
  // Nothing to undo on a server that is closed right after; the bin test runs the cleanup.
  cleanup: false,
});

describe('--stateful (model-based sequences)', () => {
  it('passes against the reference server with a fixed seed', async () => {
    ref = await startReference();
    const lines: string[] = [];
    const result = await runStateful({ ...options(ref, RUNS, STEPS), log: (l) => lines.push(l) });
    console.log(`stateful vs reference: ${result.runs} sequences, ${result.exchanges.length} exchanges, ${(result.durationMs / 1000).toFixed(1)} s`);
    expect(result.message ?? '', lines.join('\n')).toBe('');
    expect(result.failed).toBe(false);
    expect(result.exitCode).toBe(0);
    // The sequences went through the lifecycle, not only logins.
    const ops = new Set(result.exchanges.map((e) => e.operationId));
    for (const op of ['changePassword', 'verifyTotp', 'disableTotp', 'confirmPasswordReset', 'createProject', 'createApiKey', 'listProjects', 'revokeApiKey', 'logout']) expect(ops, op).toContain(op);
  }, 120_000);

  for (const fault of sequenceFaults) {
    it(`finds the planted sequence bug "${fault.name}" and shrinks it to at most 5 steps`, async () => {
      ref = await startReference({ prepare: (built) => fault.plant(built) });
      const lines: string[] = [];
      const result = await runStateful({ ...options(ref, RUNS, STEPS), log: (l) => lines.push(l) });
      console.log(`stateful vs ${fault.name}: ${result.runs} sequences played, shrunk to ${result.steps?.length} steps: ${result.steps?.join(' → ')}\n  ${result.message}`);
      expect(result.failed, lines.join('\n')).toBe(true);
      expect(result.exitCode).toBe(1);
      expect(result.steps!.length).toBeLessThanOrEqual(5);
      // The sequence printed is fast-check's final (shrunk) counterexample, not another run.
      expect(result.counterexample).toBe(result.steps!.join(','));
      // The model named what went wrong: a credential still accepted after it was revoked.
      expect(result.message).toMatch(/expected 401/u);
      // The repro script: curl commands, no secret of the run in clear.
      expect(result.script).toMatch(/^curl -i/mu);
      expect(result.script).not.toMatch(/Bearer (?!\*\*\*)/u);
      expect(result.script).not.toMatch(/qzk_(?!\*\*\*)/u);
      expect(result.script).not.toMatch(/"(?:password|new_password|current_password|token)":"(?!\*\*\*)/u);
    }, 120_000);
  }
});
