import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allChecks } from './checks/index.ts';
import { HELP } from './cli-args.ts';
import { defaultJobs, planRun } from './run.ts';
import { startBrokenProxy, type BrokenProxy } from './selftest/broken-proxy.ts';
import { startReference, type RunningReference } from './selftest/reference-server.ts';

// The package bin as a user runs it: a child process, its exit status and the report files.

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

function runBin(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('--help and --dry-run (no deployment)', () => {
  it('--help lists every area of the registered checks, hardening included', () => {
    const areas = HELP('x').split('Areas: ')[1]!.split('.')[0]!.replace(/\s+/gu, ' ');
    const registered = [...new Set(allChecks.map((c) => c.area))];
    expect(registered).toContain('hardening');
    expect(areas.split(', ')).toEqual(registered);
  });

  it('runs 4 checks at a time with a client-ip header unless told (checks are independent then), 8 with neither header nor harness (they wait for the shared windows together), 1 with only a harness', () => {
    expect(defaultJobs({ clientIpHeader: 'x-forwarded-for' })).toBe(4);
    expect(defaultJobs({})).toBe(8);
    expect(defaultJobs({ jobs: 1 })).toBe(1);
    expect(defaultJobs({ harnessUrl: 'http://127.0.0.1:9/' })).toBe(1);
    expect(defaultJobs({ clientIpHeader: 'x-forwarded-for', jobs: 1 })).toBe(1);
    expect(planRun({ baseUrl: 'http://127.0.0.1:9', clientIpHeader: 'x-forwarded-for', only: ['ACCESS-01'] })[0]).toMatch(/4 at a time/u);
  });

  it('--dry-run uses the hash cost the last run against the same deployment measured (its report.json), else assumes one', async () => {
    const { mkdtemp: mk, writeFile } = await import('node:fs/promises');
    const reportDir = await mk(join(tmpdir(), 'qz-plan-'));
    const plan = () => planRun({ baseUrl: 'http://127.0.0.1:9/', clientIpHeader: 'x-forwarded-for', only: ['login'], reportDir });
    expect(plan().join('\n')).toMatch(/password hashes at 140 ms \(assumed: scrypt N=2\^15/u);
    await writeFile(join(reportDir, 'report.json'), JSON.stringify({ runId: 'r9', baseUrl: 'http://127.0.0.1:9', startedAt: '2026-01-01T00:00:00.000Z', hashMs: 400 }));
    expect(plan().join('\n')).toMatch(/password hashes at 400 ms \(measured by run r9 against this deployment, 2026-01-01T00:00:00.000Z;/u);
    await writeFile(join(reportDir, 'report.json'), JSON.stringify({ runId: 'r9', baseUrl: 'http://elsewhere:9', hashMs: 400 }));
    expect(plan().join('\n')).toMatch(/at 140 ms/u);
    await rm(reportDir, { recursive: true, force: true });
  });

  it('--dry-run says what of its estimate is waiting (TOTP steps, windows, cleanup)', () => {
    const lines = planRun({ baseUrl: 'http://127.0.0.1:9', clientIpHeader: 'x-forwarded-for', only: ['totp', 'RATE-05'] });
    expect(lines.join('\n')).toMatch(/waiting for TOTP time steps .*waiting out rate-limit windows.*final cleanup/u);
    expect(lines.join('\n')).toMatch(/each 100 ms more per password hash adds \d/u);
  });
});

describe('quazzar-conformance (bin)', () => {
  let ref: RunningReference;
  let broken: BrokenProxy;
  let dir: string;
  beforeAll(async () => {
    ref = await startReference();
    // Another user's project served: the kind of bug the suite exists to catch.
    broken = await startBrokenProxy(ref.url, {
      onResponse: (req, res) =>
        req.method === 'GET' && /^\/projects\/[^/]+$/u.test(req.path) && res.status === 404
          ? { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ id: req.path.split('/')[2], name: 'x', created_at: new Date().toISOString() })) }
          : res,
    });
    dir = await mkdtemp(join(tmpdir(), 'qz-conformance-'));
  });
  afterAll(async () => {
    await broken?.close();
    await ref?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--help documents every option and exits 0', async () => {
    const { code, stdout } = await runBin(['--help']);
    expect(code).toBe(0);
    for (const option of ['--base-url', '--smtp-port', '--smtp-host', '--client-ip-header', '--harness-url', '--harness-token', '--only', '--skip', '--report-dir', '--contract', '--timeout-ms']) {
      expect(stdout).toContain(option);
    }
  });

  it('exits 2 on a usage error', async () => {
    expect((await runBin([])).code).toBe(2);
    expect((await runBin(['--base-url', ref.url, '--no-such-option'])).code).toBe(2);
  });

  const common = () => ['--client-ip-header', ref.clientIpHeader!, '--harness-url', ref.harnessUrl, '--only', 'ACCESS-01'];

  it('exits 0 against the reference server and writes JUnit, JSON and HTML reports', async () => {
    const out = join(dir, 'ok');
    const { code, stdout } = await runBin(['--base-url', ref.url, ...common(), '--report-dir', out], { QUAZZAR_HARNESS_TOKEN: ref.harnessToken });
    expect(code, stdout).toBe(0);
    const junit = await readFile(join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase[^>]*ACCESS-01/u);
    expect(junit).not.toMatch(/<failure/u);
    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { exitCode: number };
    expect(json.exitCode).toBe(0);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toMatch(/<html/iu);
  });

  it('exits 1 against a broken deployment and names the requirement in JUnit', async () => {
    const out = join(dir, 'broken');
    const { code } = await runBin(['--base-url', broken.url, ...common(), '--report-dir', out], { QUAZZAR_HARNESS_TOKEN: ref.harnessToken });
    expect(code).toBe(1);
    const junit = await readFile(join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase[^>]*ACCESS-01[^>]*>\s*<failure/u);
  });
});
