import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveContract } from '../framework/contract-version.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONTRACT, runConformance } from '../run.ts';
import { startReference, type RunningReference } from './reference-server.ts';

// A released contract is a promise the suite keeps: the reference server built from the
// 1.0.0 snapshot (it serves and enforces that document: no quotas, no recent authentication,
// no per-recipient reset budget, no name patterns) checked with `--contract 1.0.0` is
// CONFORMANT. The checks that rely on what 2.0.0 added are SKIPPED "not in contract 1.0.0".

const V1 = resolveContract('1.0.0');

describe('conformance --contract 1.0.0 vs a 1.0.0 reference server (client-ip header, harness, SMTP)', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference({ contractPath: V1 });
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('is CONFORMANT: no FAIL, exit 0, and only 2.0.0 features skipped, each saying so', async () => {
    const lines: string[] = [];
    const result = await runConformance({
      baseUrl: ref.url,
      contractPath: V1,
      seed: 20261201,
      smtpPort: ref.smtpPort,
      clientIpHeader: ref.clientIpHeader!,
      harnessUrl: ref.harnessUrl,
      harnessToken: ref.harnessToken,
      tokenSigningKey: ref.tokenSigningKey,
      reportDir: null,
      log: (line) => lines.push(line),
    });
    console.log(
      `conformance --contract 1.0.0 vs a 1.0.0 reference: ${(result.durationMs / 1000).toFixed(1)} s, ` +
        `${result.summary.pass} pass, ${result.summary.fail} fail, ${result.summary.skip} skip`,
    );
    // A timing check may WARN on a significant but small difference (docs/DECISIONS.md, timing
    // checks: the reference's background token work shows at scrypt 2^10); nothing else may.
    const timingSmall = (r: { id: string; outcome: string; reason?: string }) =>
      r.outcome === 'warn' && ['LOGIN-03', 'RESET-11', 'HARDENING-32'].includes(r.id) && /a small difference, not judged a leak/u.test(r.reason ?? '');
    const failed = [...result.checks, ...result.requirements].filter((r) => r.outcome === 'fail' || (r.outcome === 'warn' && !timingSmall(r))).map((r) => `${r.id}: ${r.reason ?? ''}`);
    expect(failed).toEqual([]);
    const skipped = result.checks.filter((c) => c.outcome === 'skip').map((c) => `${c.id}: ${c.reason ?? ''}`);
    expect(skipped.every((s) => /: not in contract 1\.0\.0: /u.test(s)), skipped.join('\n')).toBe(true);
    expect(skipped.map((s) => s.split(':')[0]).sort()).toEqual(['HARDENING-05', 'HARDENING-06', 'HARDENING-07', 'HARDENING-08', 'HARDENING-09', 'HARDENING-34', 'HARDENING-35', 'HARDENING-36', 'HARDENING-40', 'HARDENING-41', 'IDENTITY-02', 'IDENTITY-03', 'IDENTITY-04', 'KEYS-20', 'KEYS-21', 'NEGATIVE-20', 'NEGATIVE-22', 'RATE-09', 'RATE-10', 'RESET-12']);
    expect(result.leftBehind.filter((l) => /TOTP/u.test(l))).toEqual([]);
    expect(result.deployedContract).toMatchObject({ match: 'same', served: { version: '1.0.0' } });
    expect(result.exitCode).toBe(0);
  }, 240_000);
});

/** The shipped contract's version (the suite's default): read, not pinned, so a release keeps this test true. */
const DEFAULT_VERSION = (JSON.parse(readFileSync(DEFAULT_CONTRACT, 'utf8')) as { info: { version: string } }).info.version;

describe('the default contract vs a 1.0.0 reference server', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference({ contractPath: V1 });
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('says at start that the deployment serves 1.0.0 (console and result), and cleanup leaves no TOTP enabled', async () => {
    const lines: string[] = [];
    const result = await runConformance({
      baseUrl: ref.url,
      only: ['USERS-01', 'totp'],
      smtpPort: ref.smtpPort,
      clientIpHeader: ref.clientIpHeader!,
      harnessUrl: ref.harnessUrl,
      harnessToken: ref.harnessToken,
      reportDir: null,
      log: (line) => lines.push(line),
    });
    const hint = lines.findIndex((l) => l.includes(`the deployment serves contract 1.0.0; you are checking ${DEFAULT_VERSION} — pass --contract 1.0.0`));
    expect(hint, lines.slice(0, 12).join('\n')).toBeGreaterThanOrEqual(0);
    expect(hint).toBeLessThan(lines.findIndex((l) => /^\[\s*1\//u.test(l)));
    expect(lines.at(-1)).toMatch(new RegExp(`^WARNING: the deployment serves contract 1\\.0\\.0; you are checking ${DEFAULT_VERSION.replaceAll('.', '\\.')}`, 'u')); // again next to the verdict
    expect(result.deployedContract).toMatchObject({ match: 'other-version', served: { version: '1.0.0' }, checked: { version: DEFAULT_VERSION } });
    expect(result.leftBehind.filter((l) => /TOTP still enabled/u.test(l))).toEqual([]);
    console.log(`${DEFAULT_VERSION} vs a 1.0.0 deployment: ${result.summary.fail} fail; left behind:\n  ${result.leftBehind.join('\n  ')}`);
  }, 240_000);
});
