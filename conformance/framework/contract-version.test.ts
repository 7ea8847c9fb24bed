import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../cli-args.ts';
import { availableVersions, compareContracts, contractDigest, describeContract, RELEASES_DIR, resolveContract } from './contract-version.ts';
import { readFileSync } from 'node:fs';

// `--contract` takes a released version or a path, and the suite names the version it checks.

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
const GENERATED = fileURLToPath(new URL('../../generated/openapi.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qz-contract-version-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--contract VERSION|PATH', () => {
  it('resolves a released version (with or without v) to its snapshot in openapi/releases/', () => {
    expect(availableVersions()).toContain('1.0.0');
    expect(resolveContract('1.0.0')).toBe(join(RELEASES_DIR, '1.0.0.json'));
    expect(resolveContract('v1.0.0')).toBe(join(RELEASES_DIR, '1.0.0.json'));
    expect(parseCli(['--base-url', 'http://localhost:1', '--contract', '1.0.0'], {})).toMatchObject({ contractPath: join(RELEASES_DIR, '1.0.0.json') });
  });

  it('takes a path as it is, even one that looks like a version', () => {
    const file = join(dir, '2.0.0');
    writeFileSync(file, '{}');
    expect(resolveContract('2.0.0', RELEASES_DIR, dir)).toBe(file);
    expect(resolveContract(GENERATED)).toBe(GENERATED);
  });

  it('refuses an unknown version naming the released ones, and a missing path', () => {
    expect(() => resolveContract('9.9.9')).toThrow(/no released contract 9\.9\.9 \(released: .*1\.0\.0/u);
    expect(() => resolveContract('nowhere.json')).toThrow(/no such file/u);
    expect(() => parseCli(['--base-url', 'http://localhost:1', '--contract', '9.9.9'], {})).toThrow(UsageError);
  });

  it('describes the contract checked: title, version, and whether it is a released snapshot', () => {
    expect(describeContract(join(RELEASES_DIR, '1.0.0.json'))).toMatch(/^Quazzar Space Authentication API 1\.0\.0 \(.*1\.0\.0\.json; released snapshot\)$/u);
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify({ info: { title: 'T', version: '1.0.0' } }));
    expect(describeContract(edited)).toContain('T 1.0.0');
    expect(describeContract(edited)).toContain('not a released snapshot');
  });

  it('the bin prints the version it checks, and exits 2 on an unknown version', async () => {
    const run = (args: string[]): Promise<{ code: number; out: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr }),
        );
      });
    const unknown = await run(['--base-url', 'http://127.0.0.1:9', '--contract', '9.9.9']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('no released contract 9.9.9');
    // port 9 (discard) is closed on loopback: the suite says what it checks, then cannot reach it
    const unreachable = await run(['--base-url', 'http://127.0.0.1:9', '--contract', 'v1.0.0', '--only', 'ACCESS-01', '--report-dir', join(dir, 'r')]);
    expect(unreachable.out).toContain('checking against Quazzar Space Authentication API 1.0.0');
    expect(unreachable.out).toContain('released snapshot');
  }, 90_000);

  it('compares the contract the deployment publishes with the one checked, and says which --contract to pass', () => {
    const read = (v: string) => JSON.parse(readFileSync(join(RELEASES_DIR, `${v}.json`), 'utf8')) as Record<string, unknown>;
    const [v1, v2] = [read('1.0.0'), read('2.0.0')];
    const other = compareContracts(v2, v1, 'http://x/openapi.json');
    expect(other).toMatchObject({ match: 'other-version', served: { version: '1.0.0' }, checked: { version: '2.0.0' } });
    expect(other.message).toContain('the deployment serves contract 1.0.0; you are checking 2.0.0 — pass --contract 1.0.0');
    expect(compareContracts(v1, v1, 'http://x/openapi.json')).toMatchObject({ match: 'same' });
    // Key order and whitespace are not a difference (the server serialises its own way).
    const reordered = Object.fromEntries(Object.entries(v1).reverse());
    expect(contractDigest(reordered)).toBe(contractDigest(v1));
    expect(compareContracts(v1, reordered, 'http://x/openapi.json').match).toBe('same');
    const edited = { ...v1, info: { ...(v1['info'] as object), description: 'edited' } };
    const sameVersion = compareContracts(v1, edited, 'http://x/openapi.json');
    expect(sameVersion.match).toBe('same-version');
    expect(sameVersion.message).toMatch(/serves 1\.0\.0 too, but another document/u);
    const unknown = compareContracts(v2, { ...v1, info: { version: '7.1.0' } }, 'http://x/openapi.json');
    expect(unknown.message).toMatch(/serves contract 7\.1\.0; you are checking 2\.0\.0 — no released 7\.1\.0 ships with this suite: pass --contract <its bundled contract file>/u);
    const none = compareContracts(v2, undefined, 'http://x/openapi.json');
    expect(none).toMatchObject({ match: 'unpublished' });
    expect(none.message).toMatch(/publishes no contract at http:\/\/x\/openapi\.json/u);
  });
});
