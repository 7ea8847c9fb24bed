// `npm run contract:diff` end to end: both sides from files (fixtures), and a side from git.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rootDir } from '../generate.ts';
import { bundleAtRef } from './bundle.ts';
import { main } from './cli.ts';

const fixture = (name: string, side: string): string => fileURLToPath(new URL(`./fixtures/${name}/${side}.yaml`, import.meta.url));
async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(args, (s) => (out += s));
  return { code, out };
}

describe('contract:diff CLI', () => {
  it('exits 1 on an unannounced breaking change, 0 on a non-breaking one or with a major bump', async () => {
    const breaking = await run(['--base-file', fixture('x-totp-lockout-lock-lengthened', 'before'), '--head-file', fixture('x-totp-lockout-lock-lengthened', 'after')]);
    expect(breaking.code).toBe(1);
    expect(breaking.out).toMatch(/breaking\s+request\s+x-totp-lockout\s+x-totp-lockout\.lock_seconds\s+lock lengthened 900 s → 3600 s/u);
    const fine = await run(['--base-file', fixture('response-field-added', 'before'), '--head-file', fixture('response-field-added', 'after'), '--format', 'json']);
    expect(fine.code).toBe(0);
    expect(JSON.parse(fine.out)).toMatchObject({ counts: { breaking: 0, 'non-breaking': 1 } });
    const bumped = await run(['--base-file', fixture('breaking-with-major-bump', 'before'), '--head-file', fixture('breaking-with-major-bump', 'after'), '--format', 'markdown']);
    expect(bumped.code).toBe(0);
    expect(bumped.out).toContain('✅ 1 breaking change(s), announced by the major version 1.0.0 → 2.0.0');
  });

  it('names the version to release in every format, as JSON does with `suggested`', async () => {
    const pair = (name: string): string[] => ['--base-file', fixture(name, 'before'), '--head-file', fixture(name, 'after')];
    for (const format of ['table', 'markdown']) {
      const minor = await run([...pair('response-field-added'), '--format', format]);
      expect(minor.out).toContain('Release as 1.1.0 (1 non-breaking change(s): a new minor): set info.version: 1.1.0 in openapi/openapi.yaml, npm run generate, npm run contract:release');
      const patch = await run([...pair('description-changed'), '--format', format]);
      expect(patch.out).toContain('Release as 1.0.1 (informational change(s) only: a new patch)');
      const major = await run([...pair('x-totp-lockout-lock-lengthened'), '--format', format]);
      expect(major.out).toContain('Release as 2.0.0 (1 breaking change(s): a new major)');
      const announced = await run([...pair('breaking-with-major-bump'), '--format', format]);
      expect(announced.out).toContain('Release as 2.0.0: info.version is already 2.0.0, run npm run contract:release');
    }
    const json = JSON.parse((await run([...pair('response-field-added'), '--format', 'json'])).out);
    expect(json.verdict.suggested).toBe('1.1.0');
  });

  it('exits 2 on a usage error', async () => {
    expect((await run(['--format', 'xml'])).code).toBe(2);
    expect((await run(['--base', 'x', '--base-file', 'y'])).code).toBe(2);
    expect((await run(['--base-file', 'no/such/file.json'])).code).toBe(2);
    expect((await run(['--base', 'no-such-ref-anywhere'])).code).toBe(2);
  });

  it('bundles openapi/ at a git ref like npm run generate did at that commit', async (ctx) => {
    let committed: string;
    try {
      committed = execFileSync('git', ['show', 'HEAD:generated/openapi.json'], { cwd: rootDir, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return ctx.skip('not a git checkout (no HEAD): the --base <git-ref> mode cannot be exercised here');
    }
    expect(await bundleAtRef('HEAD')).toEqual(JSON.parse(committed));
  });
});
