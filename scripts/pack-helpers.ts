// Shared by the packers of the parts published on their own (scripts/pack-conformance.ts,
// scripts/pack-client.ts): stage files in a temporary folder, write the manifest and a README,
// `npm pack` it. Nothing about the API is written here.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface StagedPackage {
  /** Files to copy as they are, relative to the repository root (same path in the package). */
  files: string[];
  manifest: Record<string, unknown>;
  readme: string;
  /** Writes more into the stage before packing (e.g. compiled output). */
  prepare?: (stage: string) => void;
}

/** Stages the package in a temporary folder and packs it into `outDir`; returns the tarball path. */
export function packStaged(pkg: StagedPackage, outDir: string): string {
  const stage = mkdtempSync(join(tmpdir(), 'quazzar-pack-'));
  try {
    for (const file of pkg.files) {
      mkdirSync(dirname(join(stage, file)), { recursive: true });
      cpSync(join(ROOT, file), join(stage, file));
    }
    pkg.prepare?.(stage);
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg.manifest, null, 2)}\n`);
    writeFileSync(join(stage, 'README.md'), pkg.readme);
    mkdirSync(outDir, { recursive: true });
    const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8' }).trim();
    return join(outDir, name.split('\n').pop()!);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The root package.json. */
export function rootManifest(): {
  version: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
}

/** The packages a source file imports (bare specifiers, without node: built-ins). */
export function packagesImportedBy(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/gu)].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}
