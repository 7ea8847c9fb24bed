// Shows that every lint rule of redocly.yaml fires: each fixture under test/fixtures/broken/
// breaks exactly one rule, and linting it with OUR config must report exactly that rule as an
// error; the valid fixtures (one file, and one split over several files) report no error.
// The real Redocly CLI runs once over all fixtures (`--format json`), so the test exercises
// the same plugin loading and $ref resolution as `npm run lint`.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM script (scripts/lint.mjs), no type declarations
import { bannerFilter } from '../scripts/lint.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'node_modules/@redocly/cli/bin/cli.js');
const fixtures = 'test/fixtures';

/** broken fixture (file name without .yaml) → the one rule it breaks */
const BROKEN: Record<string, string> = {
  'rate-limit-missing': 'quazzar/rate-limit',
  'rate-limit-bad-key': 'quazzar/rate-limit',
  'rate-limit-zero-limit': 'quazzar/rate-limit',
  'rate-limit-policy-mismatch': 'quazzar/rate-limit',
  'rate-limit-failures-bad': 'quazzar/rate-limit',
  'rate-limited-429-missing': 'quazzar/rate-limited-429',
  'rate-limited-429-header': 'quazzar/rate-limited-429',
  'body-422': 'quazzar/body-422',
  'secured-401-missing': 'quazzar/secured-401',
  'secured-401-header': 'quazzar/secured-401',
  'problem-json-media-type': 'quazzar/problem-json',
  'problem-json-extra-media-type': 'quazzar/problem-json',
  'rate-limit-documented': 'quazzar/rate-limit-documented',
  'rate-limit-documented-number': 'quazzar/rate-limit-documented',
  'info-matches-extensions-table': 'quazzar/info-matches-extensions',
  'info-matches-extensions-missing-row': 'quazzar/info-matches-extensions',
  'info-matches-extensions-prose': 'quazzar/info-matches-extensions',
  'info-matches-extensions-tag': 'quazzar/info-matches-extensions',
  'info-matches-extensions-operation': 'quazzar/info-matches-extensions',
  'operation-operationId': 'operation-operationId',
  'no-invalid-media-type-examples': 'no-invalid-media-type-examples',
  'no-invalid-schema-examples': 'no-invalid-schema-examples',
};
const SPLIT_BROKEN = { file: `${fixtures}/split/broken/openapi.yaml`, rule: 'quazzar/secured-401' };
const VALID = [`${fixtures}/valid/all-rules.yaml`, `${fixtures}/split/valid/openapi.yaml`];

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { source: { ref: string }; pointer: string }[];
}
interface LintReport {
  totals: { errors: number; warnings: number };
  problems: LintProblem[];
}

/** `redocly lint --format json` prints one JSON object per linted file, back to back. */
function parseReports(stdout: string): LintReport[] {
  const reports: LintReport[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < stdout.length; i += 1) {
    const ch = stdout[i];
    if (inString) {
      if (ch === '\\') i += 1;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (ch === '}') {
      depth -= 1;
      if (depth === 0) reports.push(JSON.parse(stdout.slice(start, i + 1)) as LintReport);
    }
  }
  return reports;
}

function runLint(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, 'lint', '--config', 'redocly.yaml', '--format', 'json', '--max-problems', '1000', ...args],
      { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }, maxBuffer: 32 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const errorRules = (report: LintReport | undefined): string[] =>
  [...new Set((report?.problems ?? []).filter((p) => p.severity === 'error').map((p) => p.ruleId))].sort();

describe('lint rules (redocly.yaml + openapi/rules/)', () => {
  const files = [...VALID, SPLIT_BROKEN.file, ...Object.keys(BROKEN).map((name) => `${fixtures}/broken/${name}.yaml`)];
  const byFile = new Map<string, LintReport>();
  let exitCode = -1;

  beforeAll(async () => {
    const { code, stdout, stderr } = await runLint(files);
    exitCode = code;
    const reports = parseReports(stdout);
    // One report per file, in the order given: anything else means the CLI failed early.
    if (reports.length !== files.length) {
      throw new Error(`expected ${files.length} lint reports, got ${reports.length}\n${stderr}\n${stdout.slice(0, 2000)}`);
    }
    files.forEach((file, i) => byFile.set(file, reports[i]!));
  });

  it('every fixture under broken/ is in the table, and every quazzar rule has a fixture', () => {
    const onDisk = readdirSync(path.join(root, fixtures, 'broken')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(onDisk.sort()).toEqual(Object.keys(BROKEN).sort());
    const configured = [...readFileSync(path.join(root, 'redocly.yaml'), 'utf8').matchAll(/^\s+(quazzar\/[a-z0-9-]+):\s*error\s*$/gm)].map((m) => m[1]);
    expect(configured.length).toBeGreaterThanOrEqual(5);
    for (const rule of configured) expect(Object.values(BROKEN)).toContain(rule);
  });

  it('fails the run (exit code 1) because the broken fixtures have errors', () => {
    expect(exitCode).toBe(1);
  });

  it.each(VALID)('%s yields no error', (file) => {
    const report = byFile.get(file);
    expect(report?.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it.each(Object.entries(BROKEN))('broken/%s.yaml fires exactly %s', (name, rule) => {
    expect(errorRules(byFile.get(`${fixtures}/broken/${name}.yaml`))).toEqual([rule]);
  });

  it('quazzar/info-matches-extensions names the line of info.description and the operation', () => {
    const message = (name: string): string[] =>
      (byFile.get(`${fixtures}/broken/${name}.yaml`)?.problems ?? []).filter((p) => p.ruleId === 'quazzar/info-matches-extensions').map((p) => p.message);
    expect(message('info-matches-extensions-table')).toEqual([
      'info.description line 7 (info-matches-extensions-table.yaml line 14) (`| GET /health | 40 requests per 60 seconds | client IP | `health` |`): ' +
        'says limit 40, not 30: `x-rate-limit` of getHealth (GET /health) is 30 per 60 s per ip.',
    ]);
    expect(message('info-matches-extensions-missing-row')).toEqual([
      'info.description line 3 (info-matches-extensions-missing-row.yaml line 10) (`| endpoint | rate limit | key | policy |`): the rate-limit table has no row for policy ' +
        '`widget-failures` (`x-rate-limit-failures` of createWidget (POST /widgets): 100 per 3600 s per account); add one.',
    ]);
    expect(message('info-matches-extensions-prose')).toEqual([
      'info.description line 9 (info-matches-extensions-prose.yaml line 16) (`A 429 carries `RateLimit-Policy: "health";q=30;w=60`. Bodies are limited to 8192 bytes;`): ' +
        '"8192 bytes" contradicts `x-request-body-limit-bytes` (16384).',
    ]);
    expect(message('info-matches-extensions-tag')).toEqual([
      'the description of tag `widgets` line 1 (info-matches-extensions-tag.yaml line 27) (`Widgets. 5 wrong codes in a row lock TOTP checks for 10 minutes.`): ' +
        '"5 wrong codes in a row lock TOTP checks for 10 minutes" contradicts `x-totp-lockout` (max_failures 5, lock_seconds 900).',
    ]);
    expect(message('info-matches-extensions-operation')).toEqual([
      'the description of `createWidget` line 1 (info-matches-extensions-operation.yaml line 55) (`Creates a widget. **Quota:** at most 20 widgets per account (`x-quota`).`): ' +
        '"**Quota:** at most 20" contradicts `x-quota` (limit 10).',
    ]);
  });

  it('follows $refs across files: the split fixture fires quazzar/secured-401 in the referenced file', () => {
    const report = byFile.get(SPLIT_BROKEN.file);
    expect(errorRules(report)).toEqual([SPLIT_BROKEN.rule]);
    const refs = report?.problems.filter((p) => p.severity === 'error').map((p) => p.location[0]?.source.ref);
    expect(refs).toEqual(['test/fixtures/split/broken/responses/Unauthorized.yaml']);
  });

  it('the contract itself (both apis of redocly.yaml) lints without errors, as `npm run lint` must', async () => {
    const { code, stdout, stderr } = await runLint([]);
    const reports = parseReports(stdout);
    expect(reports.length, stderr).toBe(2);
    const errors = reports.flatMap((r) => r.problems.filter((p) => p.severity === 'error'));
    expect(errors.map((p) => `${p.ruleId} ${p.location[0]?.source.ref}${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    expect(code).toBe(0);
  });
});

/** Redocly CLI 2.77's banner under Node 20, as it prints it (stderr). */
const NODE20_BANNER = [
  '',
  '',
  '    ╔═════════════════════════════════════════════════════════════════╗',
  '    ║                                                                 ║',
  '    ║  Deprecation warning: Node.js 20 support is ending              ║',
  '    ║                                                                 ║',
  '    ║  Node.js 20 reached end-of-life on April 30, 2026.              ║',
  '    ║  Future Redocly CLI releases require Node.js 22.12.0 or later.  ║',
  '    ║  You are using Node.js v20.20.2.                                ║',
  '    ║                                                                 ║',
  '    ║  Update Node.js: https://nodejs.org/en/download                 ║',
  '    ║                                                                 ║',
  '    ╚═════════════════════════════════════════════════════════════════╝',
  '',
];

function filtered(lines: string[]): string {
  let out = '';
  const filter = bannerFilter((text: string) => (out += text));
  for (const line of lines) filter.line(`${line}\n`);
  filter.end();
  return out;
}

describe('npm run lint (scripts/lint.mjs): Redocly without its Node 20 end-of-life banner', () => {
  it('is what package.json runs', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['lint']).toBe('node scripts/lint.mjs');
  });

  it('drops the banner and nothing else', () => {
    const real = ['validating openapi/openapi.yaml...', '', 'openapi/openapi.yaml: validated in 1640ms', ''];
    expect(filtered([...NODE20_BANNER, ...real])).toBe(real.map((l) => `${l}\n`).join(''));
    // another box (an update notice, say) is not ours to hide
    const other = ['', '    ╔══╗', '    ║  Update available: 2.78  ║', '    ╚══╝', 'done'];
    expect(filtered(other)).toBe(other.map((l) => `${l}\n`).join(''));
    // a box that never closes is printed as it came
    expect(filtered(['    ╔══╗', '    ║  Node.js 20 support is ending'])).toContain('Node.js 20 support is ending');
  });

  it('keeps real errors and the exit status: a broken fixture still fails with its rule named', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['scripts/lint.mjs', `${fixtures}/broken/body-422.yaml`], { cwd: root, env: { ...process.env, NO_COLOR: '1' } }, (error, out, err) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err }));
    });
    expect(code).toBe(1);
    expect(stdout).toContain('Error was generated by the quazzar/body-422 rule.');
    expect(stderr).toContain('Validation failed with 1 error');
    expect(`${stdout}${stderr}`).not.toContain('end-of-life');
  });
});
