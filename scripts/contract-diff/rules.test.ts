// Shows every diff rule firing, the way test/lint-rules.test.ts shows the lint rules: each folder
// under fixtures/ holds a small before.yaml / after.yaml pair that differs by one edit, and the
// table below says how that edit must be classified (severity, side, rule, and words of the
// message). The core rules come from api-smart-diff as tuned in diff.ts; the x-* extension,
// ProblemCode and security rules are ours (extensions.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { diffContracts, humanize, originOf, versionVerdict, type Change } from './diff.ts';
import { formatJson, formatMarkdown, formatTable } from './format.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
type Expected = [Change['severity'], Change['side'], string, string, string[]?];

/** fixture → every change it must produce (info.version rows aside): severity, side, rule, words, operations */
const EXPECTED: Record<string, Expected[]> = {
  // OpenAPI core (api-smart-diff), requests
  'request-field-made-required': [['breaking', 'request', 'core', 'field `totp_code` made required', ['POST /auth/login']]],
  'request-optional-field-added': [['non-breaking', 'request', 'core', 'field `remember_me` added']],
  'request-enum-value-removed': [['breaking', 'request', 'core', 'enum value `cli` removed']],
  'request-enum-value-added': [['non-breaking', 'request', 'core', 'enum value `mobile` added']],
  'request-max-length-lowered': [['breaking', 'request', 'core', '`maxLength` `128` → `64`']],
  // OpenAPI core, responses (tuned: removed field and new error status are breaking)
  'response-field-added': [['non-breaking', 'response', 'core', 'field `scope` added']],
  'response-field-removed': [['breaking', 'response', 'core', 'field `expires_in` removed']],
  'response-enum-value-added': [['breaking', 'response', 'core', 'enum value `viewer` added', ['GET /projects']]],
  'response-error-status-added': [['breaking', 'response', 'core', 'response 403 added', ['GET /projects']]],
  'response-success-status-added': [['non-breaking', 'response', 'core', 'response 202 added']],
  'response-header-removed': [['breaking', 'response', 'core', 'header `Cache-Control` removed', ['POST /auth/login']]],
  'response-status-removed': [['breaking', 'response', 'core', 'response 401 removed']],
  'operation-removed': [['breaking', 'request', 'core', 'operation removed', ['GET /health']]],
  'operation-added': [['non-breaking', 'request', 'core', 'operation added', ['HEAD /health']]],
  'description-changed': [['informational', 'request', 'core', '`description`']],
  'examples-changed': [['informational', 'request', 'core', '`another-password`']],
  'x-enum-descriptions-changed': [['informational', 'response', 'core', 'rate-limit budget is spent']],
  'x-global-responses-status-added': [['breaking', 'response', 'core', 'response 503 added', ['any operation (x-global-responses)']]],
  // ours: x-rate-limit
  'x-rate-limit-lowered': [['breaking', 'request', 'x-rate-limit', 'limit lowered 10 → 5', ['POST /auth/login']]],
  'x-rate-limit-raised': [['non-breaking', 'request', 'x-rate-limit', 'limit raised 10 → 20']],
  'x-rate-limit-window-lengthened': [['breaking', 'request', 'x-rate-limit', 'window lengthened 60 s → 300 s']],
  'x-rate-limit-window-shortened': [['non-breaking', 'request', 'x-rate-limit', 'window shortened 60 s → 30 s']],
  'x-rate-limit-key-changed': [['breaking', 'request', 'x-rate-limit', 'budget key changed `token` → `account`', ['GET /projects']]],
  'x-rate-limit-policy-shared': [['breaking', 'request', 'x-rate-limit', 'now shares its budget with GET /projects', ['GET /health']]],
  'x-rate-limit-policy-renamed': [['informational', 'request', 'x-rate-limit', 'policy renamed `health` → `meta`']],
  // ours: x-rate-limit-failures
  'x-rate-limit-added': [['breaking', 'request', 'x-rate-limit-failures', 'rate limit added', ['GET /health']]],
  'x-rate-limit-failures-lowered': [['breaking', 'request', 'x-rate-limit-failures', 'limit lowered 100 → 20']],
  'x-rate-limit-failures-raised': [['non-breaking', 'request', 'x-rate-limit-failures', 'limit raised 100 → 200']],
  // ours: x-totp-lockout, x-request-body-limit-bytes
  'x-totp-lockout-max-failures-lowered': [['breaking', 'request', 'x-totp-lockout', 'wrong codes before the lock lowered 5 → 3']],
  'x-totp-lockout-lock-lengthened': [['breaking', 'request', 'x-totp-lockout', 'lock lengthened 900 s → 3600 s']],
  'x-totp-lockout-lock-shortened': [['non-breaking', 'request', 'x-totp-lockout', 'lock shortened 900 s → 300 s']],
  'x-request-body-limit-lowered': [['breaking', 'request', 'x-request-body-limit-bytes', 'lowered 16384 → 4096']],
  'x-request-body-limit-raised': [['non-breaking', 'request', 'x-request-body-limit-bytes', 'raised 16384 → 65536']],
  // ours: x-rate-limit-recipient (per-recipient mail budget), x-quota, recent authentication (sudo mode)
  'x-rate-limit-recipient-added': [['breaking', 'request', 'x-rate-limit-recipient', 'rate limit added', ['POST /auth/login']]],
  'x-rate-limit-recipient-lowered': [['breaking', 'request', 'x-rate-limit-recipient', 'limit lowered 3 → 2']],
  'x-quota-added': [['breaking', 'request', 'x-quota', 'quota added', ['GET /projects']]],
  'x-quota-lowered': [['breaking', 'request', 'x-quota', 'quota lowered 100 → 10', ['GET /projects']]],
  'x-quota-raised': [['non-breaking', 'request', 'x-quota', 'quota raised 100 → 500']],
  'x-requires-recent-authentication-added': [['breaking', 'request', 'x-requires-recent-authentication', 'now requires recent authentication', ['GET /projects']]],
  'x-requires-recent-authentication-removed': [['non-breaking', 'request', 'x-requires-recent-authentication', 'no longer requires recent authentication']],
  'x-recent-authentication-shortened': [['breaking', 'request', 'x-recent-authentication', 'lowered 600 → 300']],
  'x-recent-authentication-lengthened': [['non-breaking', 'request', 'x-recent-authentication', 'raised 600 → 900']],
  // ours: problem codes, security requirements
  // a code added where an answer does not narrow its codes: an enum value added to a response
  'problem-code-added-unnarrowed': [['breaking', 'response', 'core', 'enum value `email_not_verified` added', ['POST /auth/login']]],
  'problem-code-removed': [['breaking', 'response', 'problem-code', 'problem code `rate_limited` removed']],
  'security-alternative-removed': [['breaking', 'request', 'security', 'tightened: apiKey no longer enough', ['GET /projects']]],
  'security-public-now-secured': [['breaking', 'request', 'security', 'tightened: anonymous no longer enough (now: session)', ['GET /health']]],
  'security-loosened': [
    ['non-breaking', 'request', 'security', 'loosened: now also accepts oauth', ['GET /projects']],
    ['non-breaking', 'document', 'core', '`oauth`'],
  ],
  // semver: the same breaking edit, announced by a major bump
  'breaking-with-major-bump': [['breaking', 'request', 'core', 'field `totp_code` made required']],
};

const load = (name: string, side: 'before' | 'after'): Record<string, unknown> =>
  parseYaml(readFileSync(join(FIXTURES, name, `${side}.yaml`), 'utf8')) as Record<string, unknown>;
const withoutVersion = (changes: Change[]): Change[] => changes.filter((c) => !(c.where === 'info' && c.message.startsWith('`version`')));

describe('contract diff rules (fixtures/<name>/before.yaml → after.yaml)', () => {
  it('every fixture folder is in the table, at least 20 of them, and every rule of ours has one', () => {
    const onDisk = readdirSync(FIXTURES).sort();
    expect(onDisk).toEqual(Object.keys(EXPECTED).sort());
    expect(onDisk.length).toBeGreaterThanOrEqual(20);
    const rules = new Set(Object.values(EXPECTED).flatMap((list) => list.map((e) => e[2])));
    for (const rule of ['core', 'x-rate-limit', 'x-rate-limit-failures', 'x-rate-limit-recipient', 'x-totp-lockout', 'x-request-body-limit-bytes', 'x-quota', 'x-requires-recent-authentication', 'x-recent-authentication', 'problem-code', 'security']) {
      expect(rules).toContain(rule);
    }
  });

  it('an unchanged contract has no change', () => {
    const doc = load('x-rate-limit-lowered', 'before');
    expect(diffContracts(doc, structuredClone(doc)).changes).toEqual([]);
  });

  it.each(Object.entries(EXPECTED))('%s', (name, expected) => {
    const result = diffContracts(load(name, 'before'), load(name, 'after'));
    const changes = withoutVersion(result.changes);
    const summary = changes.map((c) => `${c.severity} ${c.side} ${c.rule}: ${c.where}: ${c.message} [${c.operations.join(', ')}]`);
    expect(changes.length, summary.join('\n')).toBe(expected.length);
    for (const [severity, side, rule, words, operations] of expected) {
      const match = changes.find((c) => c.severity === severity && c.side === side && c.rule === rule && c.message.includes(words));
      expect(match, `expected ${severity} ${side} ${rule} "${words}" among:\n${summary.join('\n')}`).toBeDefined();
      if (operations) expect(match!.operations).toEqual(operations);
    }
    // the exit status follows the semver policy: breaking without a major bump fails
    const breaking = expected.some((e) => e[0] === 'breaking');
    expect(result.verdict.ok).toBe(!breaking || name === 'breaking-with-major-bump');
  });
});

describe('semver verdict', () => {
  const breaking: Change = { severity: 'breaking', side: 'request', rule: 'core', where: 'x', message: 'y', operations: [] };
  const minor: Change = { ...breaking, severity: 'non-breaking' };
  it('a breaking change passes only with a higher major', () => {
    expect(versionVerdict('1.0.0', '1.1.0', [breaking]).ok).toBe(false);
    expect(versionVerdict('1.0.0', '1.1.0', [breaking]).message).toContain('raise info.version\'s major to 2.0.0');
    expect(versionVerdict('1.4.2', '2.0.0', [breaking]).ok).toBe(true);
    expect(versionVerdict('2.0.0', '1.9.0', [breaking]).ok).toBe(false);
  });
  it('suggests the smallest right version', () => {
    expect(versionVerdict('1.4.2', '1.4.2', [minor]).suggested).toBe('1.5.0');
    expect(versionVerdict('1.4.2', '1.4.2', []).suggested).toBe('1.4.2');
    expect(versionVerdict('1.4.2', '1.4.2', [minor]).ok).toBe(true);
    expect(versionVerdict('1.4.2', 'next', [minor]).ok).toBe(false);
  });
});

describe('locations and outputs', () => {
  it('follows $refs to name the component a change comes from', () => {
    const doc = load('problem-code-removed', 'before');
    const origin = originOf(doc, ['paths', '/auth/login', 'post', 'responses', '401', 'content', 'application/problem+json', 'schema', 'properties', 'code', 'enum', 1]);
    expect(origin).toEqual({ ref: '#/components/schemas/ProblemCode', rest: ['enum', 1] });
    expect(humanize(['responses', '401', 'content', 'application/problem+json', 'schema', 'properties', 'code', 'enum'])).toBe(
      'response 401 application/problem+json body field `code` enum',
    );
  });

  it('renders a table, Markdown and JSON naming the change and the fix', () => {
    const result = diffContracts(load('x-rate-limit-lowered', 'before'), load('x-rate-limit-lowered', 'after'));
    const table = formatTable(result, 'base');
    expect(table).toMatch(/breaking\s+request\s+x-rate-limit\s+x-rate-limit\.limit\s+limit lowered 10 → 5\s+POST \/auth\/login/u);
    expect(table).toContain('FAIL');
    const markdown = formatMarkdown(result, 'base');
    expect(markdown).toContain('### Breaking changes (1)');
    expect(markdown).toContain('| request | x-rate-limit.limit | limit lowered 10 → 5 | POST /auth/login | x-rate-limit |');
    expect(markdown).toContain("raise info.version's major to 2.0.0");
    const json = JSON.parse(formatJson(result, 'base')) as { counts: Record<string, number>; verdict: { ok: boolean } };
    expect(json.counts).toEqual({ breaking: 1, 'non-breaking': 0, informational: 0 });
    expect(json.verdict.ok).toBe(false);
  });
});
