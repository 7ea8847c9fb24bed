import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from './transport.ts';

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
  // The same document, whatever its key order or whitespace (canonical digest).
  const same = existsSync(released) && contractDigest(JSON.parse(readFileSync(released, 'utf8'))) === contractDigest(doc);
  const status = resolve(path) === resolve(released) ? 'released snapshot' : same ? 'identical to the released snapshot' : 'not a released snapshot';
  return `${doc.info?.title ?? 'contract'} ${version} (${path}; ${status})`;
}

// ---------------------------------------------------------------- the deployment's contract

type Json = Record<string, unknown>;

/** sha256 of the document's canonical JSON (object keys sorted, no whitespace): the same for
 * the pretty-printed release file and the compact copy a server serves, whatever its key order. */
export function contractDigest(document: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Json)[k])]))
        : value;
  return `sha256:${createHash('sha256').update(JSON.stringify(canonical(document))).digest('hex')}`;
}

export interface ContractIdentity {
  version: string;
  digest: string;
}

/** What the deployment publishes at GET /openapi.json, compared with the contract checked. */
export interface DeployedContract {
  /** Where the suite looked. */
  url: string;
  checked: ContractIdentity;
  /** Absent when the deployment publishes no contract there. */
  served?: ContractIdentity;
  /** `same`: identical documents; `same-version`: same info.version, other content;
   * `other-version`; `unpublished`: no contract at `url`. */
  match: 'same' | 'same-version' | 'other-version' | 'unpublished';
  /** One line for the console and the reports. */
  message: string;
}

const identity = (document: Json): ContractIdentity => ({
  version: String((document['info'] as Json | undefined)?.['version'] ?? 'unversioned'),
  digest: contractDigest(document),
});

export function compareContracts(checkedDoc: Json, servedDoc: Json | undefined, url: string, dir = RELEASES_DIR): DeployedContract {
  const checked = identity(checkedDoc);
  if (!servedDoc) {
    return { url, checked, match: 'unpublished', message: `the deployment publishes no contract at ${url}: the suite cannot tell which version it serves (checking ${checked.version})` };
  }
  const served = identity(servedDoc);
  if (served.digest === checked.digest) {
    return { url, checked, served, match: 'same', message: `the deployment serves contract ${served.version}, the one checked (same digest ${served.digest.slice(0, 19)}…)` };
  }
  if (served.version === checked.version) {
    return {
      url,
      checked,
      served,
      match: 'same-version',
      message: `the deployment serves ${served.version} too, but another document (digest ${served.digest.slice(0, 19)}…, checked ${checked.digest.slice(0, 19)}…): an edit not released as a new version on one side; findings may come from the difference`,
    };
  }
  const released = existsSync(join(dir, `${served.version}.json`));
  const fix = released ? `pass --contract ${served.version}` : `no released ${served.version} ships with this suite: pass --contract <its bundled contract file>`;
  return {
    url,
    checked,
    served,
    match: 'other-version',
    message: `the deployment serves contract ${served.version}; you are checking ${checked.version} — ${fix} (checks of rules one version has and the other lacks will fail)`,
  };
}

/** GET <base>/openapi.json: the deployment's own contract when it publishes one (a JSON
 * document with `openapi` and `info`), else undefined. Not recorded as an exchange: it is
 * outside the contract. */
/** `date`: the deployment's clock (its Date header, epoch ms) when it answered, if it sent one. */
export async function fetchDeployedContract(baseUrl: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ url: string; document?: Json; date?: number }> {
  const url = `${baseUrl}/openapi.json`;
  const answer = await send({ method: 'GET', url, headers: { ...headers, accept: 'application/json' }, timeoutMs });
  const date = Date.parse(answer.headers['date'] ?? '');
  const base = { url, ...(Number.isNaN(date) ? {} : { date: date + 500 }) };
  if (answer.status !== 200) return base;
  try {
    const document = JSON.parse(answer.text) as Json;
    return document && typeof document === 'object' && 'openapi' in document && 'info' in document ? { ...base, document } : base;
  } catch {
    return base;
  }
}

declare module './types.ts' {
  interface RunResult {
    /** The contract the deployment publishes (GET /openapi.json) compared with the one
     * checked: versions, digests and the one-line verdict printed at start. */
    deployedContract?: DeployedContract;
  }
}
