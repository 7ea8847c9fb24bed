// The CI guard, first: `npm test` runs this as its `pretest` step, before tsc and vitest. An
// unannounced breaking change of the contract (generated/openapi.json against the latest
// snapshot in openapi/releases/) makes most other tests fail too — a field made required on
// register fails every test that registers — so the guard's message would be one failure among
// a hundred. Here it is the only thing printed, and npm test stops (exit 1). The same check runs
// inside vitest (guard.test.ts), so `npx vitest run` alone still reports it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rootDir } from '../generate.ts';
import { readRelease, releasedVersions, RELEASES_DIR } from './bundle.ts';
import { guardMessage } from './release.ts';

type Json = Record<string, unknown>;

export interface GuardOutcome {
  code: number;
  message: string;
}

export function runGuard(options: { contract?: string; dir?: string } = {}): GuardOutcome {
  const contract = options.contract ?? join(rootDir, 'generated/openapi.json');
  const dir = options.dir ?? RELEASES_DIR;
  const versions = releasedVersions(dir);
  const latest = versions[versions.length - 1];
  if (!latest) return { code: 0, message: 'contract guard: no released version in openapi/releases/ yet, nothing to compare with' };
  if (!existsSync(contract)) return { code: 1, message: `contract guard: ${contract} is missing: run npm run generate` };
  const current = JSON.parse(readFileSync(contract, 'utf8')) as Json;
  const message = guardMessage(latest, readRelease(latest, dir), current);
  if (!message) return { code: 0, message: `contract guard: no unannounced breaking change since release ${latest}` };
  return {
    code: 1,
    message: [
      'npm test stopped before the tests: the contract guard failed (the other tests would fail on the same change).',
      '',
      message,
      '',
      'To run the tests anyway (say, on a branch whose breaking edits are announced after merging): npx vitest run',
    ].join('\n'),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { code, message } = runGuard();
  (code ? console.error : console.log)(message);
  process.exit(code);
}
