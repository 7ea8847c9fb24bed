// A correctly announced and released contract change leaves the tests green (README, "What the
// tests pin"). Each edit below is made in a scratch copy of openapi/ exactly as the README tells a
// designer to: edit the YAML, `npm run lint`, `npm run generate`, raise info.version, `npm run
// contract:release`. Then the CI guard (scripts/contract-diff/guard.ts) and the pinning tests
// (test/contract-seed.test.ts, run on the scratch bundle) must pass. A change to a seed fact (the
// reset request budget, 3 a minute on the seed page) fails, and only with the seed-fact message.
// Bounded: three edits, one lint (~2 s) and one vitest child run (~10 s) each.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleContract, rootDir } from '../scripts/generate.ts';
import { serialize } from '../scripts/contract-diff/bundle.ts';
import { runGuard } from '../scripts/contract-diff/guard.ts';
import { release } from '../scripts/contract-diff/release.ts';

/** One textual edit of a file under openapi/: `from` must occur exactly once. */
interface Edit { file: string; from: string; to: string }

// Every number below is read from the contract, so the test holds whatever today's limits are.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const contract = JSON.parse(readFileSync(join(rootDir, 'generated/openapi.json'), 'utf8')) as Json;
const current: string = contract.info.version;
const [major, minor] = current.split('.').map(Number) as [number, number];
const nextMajor = `${major + 1}.0.0`;
const bump = (to: string): Edit => ({ file: 'openapi.yaml', from: `\n  version: ${current}\n`, to: `\n  version: ${to}\n` });

/** Lowers one operation's `x-rate-limit` to `to`: the extension, its description and its info table row. */
function lowerBudget(file: string, path: string, to: number): Edit[] {
  const { limit, window_seconds: window } = contract.paths[path].post['x-rate-limit'] as { limit: number; window_seconds: number };
  return [
    { file, from: `    limit: ${limit}\n    window_seconds: ${window}\n`, to: `    limit: ${to}\n    window_seconds: ${window}\n` },
    { file, from: `**Rate limit:** ${limit} requests per ${window} seconds`, to: `**Rate limit:** ${to} requests per ${window} seconds` },
    { file: 'openapi.yaml', from: `| POST ${path} | ${limit} requests per ${window} seconds |`, to: `| POST ${path} | ${to} requests per ${window} seconds |` },
  ];
}
const confirmLimit: number = contract.paths['/auth/password-reset/confirm'].post['x-rate-limit'].limit;
const resetLimit: number = contract.paths['/auth/password-reset/request'].post['x-rate-limit'].limit;
const confirmLowered = Math.max(1, Math.floor(confirmLimit / 2));

/** The README's walk-through: the password-reset confirm budget halved (10 → 5 a minute today; a
 * breaking change, so a new major) plus an optional `locale` in RegisterRequest. */
const README_EDIT: Edit[] = [
  ...lowerBudget('paths/auth_password-reset_confirm.yaml', '/auth/password-reset/confirm', confirmLowered),
  { file: 'components/schemas/RegisterRequest.yaml', from: '\nproperties:\n', to: '\nproperties:\n  locale:\n    type: string\n    maxLength: 35\n' },
  bump(nextMajor),
];

/** The canonical non-breaking change: an optional response field (a new minor). */
const RESPONSE_FIELD_EDIT: Edit[] = [
  { file: 'components/schemas/Project.yaml', from: '\nproperties:\n', to: '\nproperties:\n  description:\n    type: string\n    maxLength: 500\n' },
  bump(`${major}.${minor + 1}.0`),
];

/** A seed fact: the reset request budget (3 a minute on the seed page) lowered by one, announced,
 * documented and released like the others. */
const SEED_EDIT: Edit[] = [...lowerBudget('paths/auth_password-reset_request.yaml', '/auth/password-reset/request', resetLimit - 1), bump(nextMajor)];

const scratch = mkdtempSync(join(tmpdir(), 'designer-edits-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: rootDir, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 32 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` }));
  });
}

/** Copies openapi/ to a fresh folder, applies the edits, lints, bundles, releases, guards. */
async function applyAndRelease(name: string, edits: Edit[]): Promise<{ dir: string; bundled: string }> {
  const dir = join(scratch, name);
  cpSync(join(rootDir, 'openapi'), join(dir, 'openapi'), { recursive: true });
  for (const edit of edits) {
    const file = join(dir, 'openapi', edit.file);
    const text = readFileSync(file, 'utf8');
    expect(text.split(edit.from).length - 1, `${edit.file} holds ${JSON.stringify(edit.from)} once`).toBe(1);
    writeFileSync(file, text.replace(edit.from, edit.to));
  }
  // npm run lint, on the copy: our rules, the info tables included
  const lint = await run(['scripts/lint.mjs', join(dir, 'openapi/openapi.yaml')]);
  expect(lint.out, 'npm run lint').toMatch(/Your API description(s are| is) valid/u);
  expect(lint.code).toBe(0);
  // npm run generate + npm run contract:release, on the copy
  const document = await bundleContract(join(dir, 'openapi/openapi.yaml'));
  const bundled = join(dir, 'openapi.json');
  writeFileSync(bundled, serialize(document));
  const outcome = await release({ dir: join(dir, 'openapi/releases'), changelog: join(dir, 'CHANGELOG.md'), current: document });
  expect(outcome.message).toMatch(/^released \d+\.\d+\.\d+: /u);
  expect(readFileSync(join(dir, 'openapi/releases', `${(document.info as { version: string }).version}.json`), 'utf8')).toBe(serialize(document));
  // the CI guard (npm test's pretest)
  expect(runGuard({ contract: bundled, dir: join(dir, 'openapi/releases') })).toMatchObject({ code: 0 });
  return { dir, bundled };
}

const pinningTests = (bundled: string): Promise<{ code: number; out: string }> =>
  run(['node_modules/vitest/vitest.mjs', 'run', 'test/contract-seed.test.ts'], { QUAZZAR_CONTRACT_UNDER_TEST: bundled });

describe('a correctly announced and released change leaves the tests green', () => {
  it(`the README's walk-through (password-reset confirm ${confirmLimit} → ${confirmLowered} a minute, optional locale), released as ${nextMajor}`, async () => {
    const { bundled } = await applyAndRelease('readme', README_EDIT);
    const tests = await pinningTests(bundled);
    expect(tests.code, tests.out).toBe(0);
  }, 120_000);

  it(`an optional response field (Project.description), released as ${major}.${minor + 1}.0`, async () => {
    const { bundled } = await applyAndRelease('response-field', RESPONSE_FIELD_EDIT);
    const tests = await pinningTests(bundled);
    expect(tests.code, tests.out).toBe(0);
  }, 120_000);

  it(`a seed fact (reset request ${resetLimit} → ${resetLimit - 1} a minute), released as ${nextMajor}, fails the seed pins only, saying so`, async () => {
    const { bundled } = await applyAndRelease('seed-fact', SEED_EDIT);
    const tests = await pinningTests(bundled);
    expect(tests.code).toBe(1);
    expect(tests.out).toContain('this is a seed fact (POST /auth/password-reset/request: 3 requests per minute per IP): changing it departs from the reference page');
    expect(tests.out).toContain('this is a seed fact (the rate-limit table)');
    // exactly the two seed pins of that budget: its x-rate-limit and its row of the info table
    expect(tests.out).toMatch(/Tests\s+2 failed/u);
  }, 120_000);
});
