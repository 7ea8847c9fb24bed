import { describe, expect, it } from 'vitest';
import { HELP, parseCli } from '../conformance/cli-args.ts';
import { selectChecks } from '../conformance/run.ts';
import { allChecks } from '../conformance/checks/index.ts';

describe('quazzar-conformance command line', () => {
  it('parses every option', () => {
    const parsed = parseCli(
      ['--base-url', 'http://localhost:3000', '--smtp-port', '2525', '--client-ip-header', 'X-Test-IP', '--harness-url', 'http://h', '--only', 'login,SESSIONS-01', '--skip', 'rate-limits', '--report-dir', 'out', '--timeout-ms', '5000'],
      { QUAZZAR_HARNESS_TOKEN: 'from-env-token-123' },
    );
    expect(parsed).toMatchObject({
      baseUrl: 'http://localhost:3000',
      smtpPort: 2525,
      clientIpHeader: 'X-Test-IP',
      harnessUrl: 'http://h',
      harnessToken: 'from-env-token-123',
      only: ['login', 'SESSIONS-01'],
      skip: ['rate-limits'],
      reportDir: 'out',
      timeoutMs: 5000,
    });
  });

  it('refuses bad usage', () => {
    expect(() => parseCli([], {})).toThrow(/--base-url is required/u);
    expect(() => parseCli(['--base-url', 'ftp://x'], {})).toThrow(/http/u);
    expect(() => parseCli(['--base-url', 'http://x', '--smtp-port', 'abc'], {})).toThrow(/smtp-port/u);
    expect(() => parseCli(['--base-url', 'http://x', '--harness-url', 'http://h'], {})).toThrow(/harness-token/u);
    expect(() => parseCli(['--base-url', 'http://x', '--nope'], {})).toThrow();
    expect(parseCli(['--help'], {})).toBe('help');
  });

  it('documents every option in --help', () => {
    for (const option of ['--base-url', '--smtp-port', '--smtp-host', '--client-ip-header', '--harness-url', '--harness-token', '--only', '--skip', '--report-dir', '--contract', '--timeout-ms']) {
      expect(HELP('x')).toContain(option);
    }
  });

  it('selects checks by area or requirement id, case-insensitively', () => {
    const only = selectChecks(allChecks, ['login', 'sessions-01']);
    expect(new Set(only.map((c) => c.area))).toEqual(new Set(['login', 'sessions']));
    expect(only.filter((c) => c.area === 'sessions').map((c) => c.id)).toEqual(['SESSIONS-01']);
    const skipped = selectChecks(allChecks, undefined, ['rate-limits']);
    expect(skipped.some((c) => c.area === 'rate-limits')).toBe(false);
    expect(skipped.length).toBe(allChecks.length - allChecks.filter((c) => c.area === 'rate-limits').length);
  });
});
