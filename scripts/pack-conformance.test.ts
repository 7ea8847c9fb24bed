import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_DEPENDENCIES, conformanceManifest, packConformance, suiteFiles } from './pack-conformance.ts';
import { packagesImportedBy } from './pack-helpers.ts';

describe('npm run pack:conformance', () => {
  it('declares exactly the packages the suite imports at run time, and never reaches into src/', () => {
    const files = suiteFiles();
    expect(files).toContain('conformance/cli.ts');
    expect(files.some((f) => f.includes('selftest') || f.endsWith('.test.ts'))).toBe(false);
    const imported = new Set(files.flatMap(packagesImportedBy));
    expect([...imported].sort()).toEqual([...RUNTIME_DEPENDENCIES].sort());
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(/from '(\.\.\/)+src\//u);
    const manifest = conformanceManifest() as { dependencies: Record<string, string>; bin: Record<string, string> };
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...RUNTIME_DEPENDENCIES].sort());
    expect(manifest.bin['quazzar-conformance']).toBe('conformance/bin.js');
  });

  it('packs the suite and the bundled contracts, nothing of the server', () => {
    const out = mkdtempSync(join(tmpdir(), 'qz-pack-test-'));
    try {
      const tarball = packConformance(out);
      const listed = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
      expect(listed).toContain('package/conformance/bin.js');
      // the security requirements the check titles cite (SEC n), read by the reports
      expect(listed).toContain('package/conformance/requirements/security.json');
      expect(listed).toContain('package/generated/openapi.json');
      expect(listed).toContain('package/generated/harness.json');
      // released contracts, for `--contract 1.0.0` (conformance/framework/contract-version.ts)
      expect(listed).toContain('package/openapi/releases/1.0.0.json');
      expect(listed.filter((f) => f.startsWith('package/openapi/') && !f.startsWith('package/openapi/releases/'))).toEqual([]);
      expect(listed.filter((f) => f.startsWith('package/src/') || f.includes('selftest'))).toEqual([]);
      const manifest = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { dependencies: Record<string, string> };
      expect(manifest.dependencies).not.toHaveProperty('better-sqlite3');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
