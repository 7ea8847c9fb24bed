import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Conformance follows contract versions: `--contract` takes a released version (`1.0.0`,
// `v1.0.0`: the snapshot openapi/releases/<version>.json kept in the repository and shipped with
// the suite's package) or a path to a bundled contract, and the suite says which version it
// checks, so an implementer proves a deployment against the version it claims.

export const RELEASES_DIR = fileURLToPath(new URL('../../openapi/releases/', import.meta.url));

const VERSION = /^v?(\d+\.\d+\.\d+)$/u;

/** Released versions available to `--contract`, oldest first. */
export function availableVersions(dir = RELEASES_DIR): string[] {
  if (!existsSync(dir)) return [];
  const num = (v: string): number[] => v.split('.').map(Number);
  return readdirSync(dir)
    .map((f) => /^(\d+\.\d+\.\d+)\.json$/u.exec(f)?.[1])
    .filter((v): v is string => !!v)
    .sort((a, b) => num(a).reduce((d, x, i) => d || x - num(b)[i]!, 0));
}

/** `--contract` value → the file to load: an existing path wins; else a version tag. Throws a
 * message naming the available versions when neither fits. */
export function resolveContract(value: string, dir = RELEASES_DIR, cwd = process.cwd()): string {
  const path = resolve(cwd, value);
  if (existsSync(path)) return path;
  const version = VERSION.exec(value.trim())?.[1];
  if (version) {
    const file = join(dir, `${version}.json`);
    if (existsSync(file)) return file;
    const known = availableVersions(dir);
    throw new Error(`--contract ${value}: no released contract ${version} (released: ${known.join(', ') || 'none'})`);
  }
  throw new Error(`--contract ${value}: no such file, and not a version like 1.0.0`);
}

/** "Quazzar Space Authentication API 1.0.0 (released snapshot openapi/releases/1.0.0.json)" */
export function describeContract(path: string, dir = RELEASES_DIR): string {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { info?: { title?: string; version?: string } };
  const version = doc.info?.version ?? 'unknown version';
  const released = join(dir, `${version}.json`);
  const same = existsSync(released) && readFileSync(released, 'utf8') === readFileSync(path, 'utf8');
  const status = resolve(path) === resolve(released) ? 'released snapshot' : same ? 'identical to the released snapshot' : 'not a released snapshot';
  return `${doc.info?.title ?? 'contract'} ${version} (${path}; ${status})`;
}
