import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELEASES_DIR } from '../framework/contract-version.ts';

// Which contract a run checked, for every report (issue 20: a report that does not say which
// version it proved proves nothing): the bundled document's title and version, the sha256 of
// its bytes (two files with the same version but another digest are not the same contract),
// and whether it is byte for byte a released snapshot (openapi/releases/<version>.json).

export interface ContractInfo {
  title: string;
  version: string;
  /** sha256 of the bundled JSON file's bytes, hex. */
  sha256: string;
  /** The file is, byte for byte, the released snapshot of its version. */
  released: boolean;
  /** The file the suite loaded. */
  source: string;
}

declare module '../framework/types.ts' {
  interface RunResult {
    /** The contract the run checked. */
    contract?: ContractInfo;
    /** `--only`/`--skip`/`--profile`: the checks selected, of all the suite has. */
    subset?: { run: number; of: number };
    /** `--strict`: a PARTIAL check fails the exit status (and is a JUnit failure). */
    strict?: boolean;
    /** The CONTRACT-* requirements, counted apart from the checks (`summary`). */
    contractSummary?: RunResult['summary'];
  }
}

export function contractInfo(path: string, releasesDir = RELEASES_DIR): ContractInfo {
  const bytes = readFileSync(path);
  const doc = JSON.parse(bytes.toString('utf8')) as { info?: { title?: unknown; version?: unknown } };
  const version = String(doc.info?.version ?? 'unknown');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const snapshot = join(releasesDir, `${version}.json`);
  const released = existsSync(snapshot) && createHash('sha256').update(readFileSync(snapshot)).digest('hex') === sha256;
  return { title: String(doc.info?.title ?? 'contract'), version, sha256, released, source: path };
}

/** "Quazzar Space Authentication API 2.0.0 (sha256 1a2b…; released snapshot)" */
export function describeChecked(info: ContractInfo, digestChars = 64): string {
  return `${info.title} ${info.version} (sha256 ${info.sha256.slice(0, digestChars)}; ${info.released ? 'released snapshot' : 'not a released snapshot'})`;
}
