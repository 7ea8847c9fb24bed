// The two sides of a diff, bundled the way `npm run generate` bundles (scripts/generate.ts):
// the working tree's openapi/, openapi/ at any git ref (extracted with `git archive` into a
// temporary folder), or a file (a bundled JSON, or a YAML root with $refs next to it).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleContract, rootDir } from '../generate.ts';

type Json = Record<string, unknown>;
export const ROOT_SOURCE = 'openapi/openapi.yaml';
export const RELEASES_DIR = join(rootDir, 'openapi/releases');

export const bundleWorkingTree = (): Promise<Json> => bundleContract(ROOT_SOURCE);

const git = (args: string[]): string => execFileSync('git', args, { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The merge base of HEAD with main (or origin/main): the default base of a diff. */
export function defaultBaseRef(): string {
  for (const branch of ['main', 'origin/main', 'master']) {
    try {
      return git(['merge-base', 'HEAD', branch]);
    } catch {
      // try the next name
    }
  }
  throw new Error('no branch main (or origin/main) to take the merge base with: pass --base <git-ref> or --base-file <path>');
}

/** openapi/ as it was at `ref`, bundled. */
export async function bundleAtRef(ref: string): Promise<Json> {
  try {
    git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`unknown git ref ${ref}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'contract-diff-'));
  try {
    const tar = execFileSync('git', ['archive', '--format=tar', ref, 'openapi'], { cwd: rootDir, maxBuffer: 256 << 20 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    const source = join(dir, ROOT_SOURCE);
    if (!existsSync(source)) throw new Error(`${ref} has no ${ROOT_SOURCE}`);
    return await bundleContract(source);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A file: bundled JSON is read as it is; YAML (or JSON with external $refs) is bundled. */
export async function bundleFile(path: string): Promise<Json> {
  const absolute = resolve(process.cwd(), path);
  if (!existsSync(absolute)) throw new Error(`no such file: ${path}`);
  if (absolute.endsWith('.json')) {
    const text = readFileSync(absolute, 'utf8');
    if (!/"\$ref"\s*:\s*"(?!#)/u.test(text)) return JSON.parse(text) as Json;
  }
  return bundleContract(absolute);
}

// ---------------------------------------------------------------- released versions

export function compareSemver(a: string, b: string): number {
  const pa = a.split(/[.-]/u).map(Number);
  const pb = b.split(/[.-]/u).map(Number);
  for (let i = 0; i < 3; i += 1) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Released versions kept in openapi/releases/<version>.json, oldest first. */
export function releasedVersions(dir = RELEASES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^(\d+\.\d+\.\d+)\.json$/u.exec(f)?.[1])
    .filter((v): v is string => !!v)
    .sort(compareSemver);
}

export const readRelease = (version: string, dir = RELEASES_DIR): Json => JSON.parse(readFileSync(join(dir, `${version}.json`), 'utf8')) as Json;

/** The exact bytes a snapshot holds: the bundle as generated/openapi.json writes it. */
export const serialize = (doc: Json): string => `${JSON.stringify(doc, null, 2)}\n`;
