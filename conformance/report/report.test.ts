import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exchange, RunResult } from '../framework/types.ts';
import { consoleSummary } from './console.ts';
import { curlFor } from './curl.ts';
import { htmlReport } from './html.ts';
import { jsonReport } from './json.ts';
import { junitXml } from './junit.ts';
import { maskExchange } from './mask.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz';
const KEY = `qzk_${'k'.repeat(43)}`;
const PASSWORD = 'my-Secret-Passw0rd-ß';

const leaky: Exchange = {
  id: 7,
  operationId: 'login',
  checkId: 'LOGIN-01',
  client: 'self',
  request: {
    method: 'POST',
    url: 'http://localhost:3000/auth/login?token=abc123',
    headers: { authorization: `Bearer ${JWT}`, cookie: `access_token=${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'a@example.com', password: PASSWORD, totp_code: '123456' }),
    bodyBytes: 80,
  },
  status: 200,
  headers: { 'content-type': 'application/json' },
  text: JSON.stringify({ access_token: JWT, key: KEY, secret: 'JBSWY3DPEHPK3PXP', uri: 'otpauth://totp/Q:a?secret=JBSWY3DPEHPK3PXP&issuer=Quazzar', backup_codes: ['abcd1234'] }),
  body: { access_token: JWT, key: KEY, secret: 'JBSWY3DPEHPK3PXP', uri: 'otpauth://totp/Q:a?secret=JBSWY3DPEHPK3PXP&issuer=Quazzar', backup_codes: ['abcd1234'] },
  durationMs: 3,
  violations: [{ requirement: 'CONTRACT-SCHEMA', message: 'x' }],
};

const secrets = [JWT, KEY, PASSWORD, '123456', 'JBSWY3DPEHPK3PXP', 'abcd1234', 'abc123'];

describe('masking', () => {
  it('removes every credential, password, code and secret from an exchange', () => {
    const text = JSON.stringify(maskExchange(leaky));
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain('a@example.com');
  });

  it('keeps a problem answer\'s error code (evidence) while masking TOTP codes', () => {
    const problem = { type: 'https://app.quazzar.space/problems/invalid_totp_code', title: 'Invalid code', status: 401, code: 'invalid_totp_code' };
    const masked = maskExchange({ ...leaky, status: 401, text: JSON.stringify(problem), body: problem });
    expect(masked.body).toMatchObject({ code: 'invalid_totp_code' });
    expect(masked.text).toContain('"code": "invalid_totp_code"');
    expect(masked.request.body).toContain('"totp_code": "***"');
    expect(JSON.stringify(maskExchange({ ...leaky, body: { code: '123456' }, text: '{"code":"123456"}' }))).not.toContain('123456');
  });

  it('builds a curl command with the secrets masked', () => {
    const curl = curlFor(leaky);
    expect(curl).toMatch(/^curl -i \\\n {2}-X POST/u);
    expect(curl).toContain("-H 'authorization: Bearer ***'");
    for (const secret of secrets) expect(curl).not.toContain(secret);
  });
});

const result: RunResult = {
  runId: 'r1',
  baseUrl: 'http://localhost:3000',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1000,
  estimatedMs: 900,
  capabilities: { smtp: false, harness: false, clientIp: false },
  checks: [
    { id: 'LOGIN-01', area: 'login', level: 'MUST', title: 'Login <works>', outcome: 'fail', reason: 'broke', findings: [{ message: 'broke & more', requirement: 'LOGIN-01', exchangeId: 7 }], notes: [], exchangeIds: [7], durationMs: 5 },
    { id: 'TOTP-01', area: 'totp', level: 'MUST', title: 'needs smtp (SEC 13, 16)', outcome: 'skip', reason: 'needs an SMTP sink', findings: [], notes: [], exchangeIds: [], durationMs: 0 },
    { id: 'LOGIN-03', area: 'login', level: 'SHOULD', title: 'timing (SEC 4)', outcome: 'warn', reason: 'slow', findings: [{ message: 'slow', requirement: 'LOGIN-03' }], notes: [], exchangeIds: [], durationMs: 1 },
  ],
  requirements: [],
  exchanges: [leaky],
  coverage: [
    { operationId: 'login', method: 'POST', path: '/auth/login', status: 200, exercised: 1 },
    { operationId: 'login', method: 'POST', path: '/auth/login', status: 401, exercised: 0 },
  ],
  undocumented: [],
  unplanned429: 0,
  leftBehind: [],
  summary: { pass: 0, fail: 1, warn: 1, skip: 1, mustFailed: 1 },
  exitCode: 1,
};

describe('reports', () => {
  it('JUnit: one testcase per requirement; failure, skipped, and a warning that is not a failure', () => {
    const xml = junitXml(result);
    expect(xml.match(/<testcase /gu)).toHaveLength(3);
    expect(xml).toContain('<failure message="broke" type="LOGIN-01">');
    expect(xml).toContain('<skipped message="needs an SMTP sink"/>');
    expect(xml).toContain('Login &lt;works&gt;');
    expect(xml).toMatch(/<testsuites [^>]*tests="3" failures="1"/u);
  });

  it('HTML: self-contained, coverage matrix, failure with masked request, response and curl', () => {
    const html = htmlReport(result);
    expect(html).not.toMatch(/<script|<link|src="http/u);
    expect(html).toContain('1 of 2 documented (operation, status) pairs exercised');
    expect(html).toContain('class="miss"');
    expect(html).toContain('curl -i');
    expect(html).toContain('NOT CONFORMANT');
    for (const secret of secrets) expect(html).not.toContain(secret);
  });
});

describe('security requirements cited by titles (SEC n) in every report', () => {
  it('JSON: each result has a security array with id, title and text', () => {
    const json = JSON.parse(jsonReport(result)) as { checks: Array<{ id: string; security: Array<{ id: string; title: string; text: string }> }> };
    const totp = json.checks.find((c) => c.id === 'TOTP-01')!;
    expect(totp.security.map((s) => s.id)).toEqual(['SEC 13', 'SEC 16']);
    expect(totp.security[0]!.text).toMatch(/160-bit secret/u);
    expect(totp.security[1]!.title).toMatch(/^TOTP and backup codes: 5 backup codes/u);
    expect(json.checks.find((c) => c.id === 'LOGIN-01')!.security).toEqual([]);
  });

  it('HTML: the text of each cited SEC in a details element', () => {
    const html = htmlReport(result);
    expect(html).toMatch(/<details class="sec"><summary>SEC 4 — Login and enumeration: [^<]*<\/summary><p>Unknown e-mail and wrong password: same status, same body, timing within ~20%\.<\/p><\/details>/u);
  });

  it('JUnit: the cited SEC texts as testcase properties', () => {
    const xml = junitXml(result);
    expect(xml).toContain('<property name="SEC 13" value="160-bit secret;');
    expect(xml).toMatch(/name="LOGIN-03 [^"]*" time="[^"]*">\n {6}<properties>\n {8}<property name="SEC 4" value="Unknown e-mail/u);
  });

  it('console: under a failure or warning, the text of each SEC it cites', () => {
    const lines = consoleSummary(result);
    const at = lines.findIndex((l) => l.includes('WARN LOGIN-03'));
    expect(lines.slice(at, at + 4).join('\n')).toContain('SEC 4: Unknown e-mail and wrong password');
  });
});

describe('HTML: evidence of passing and partial checks', () => {
  const many: Exchange[] = Array.from({ length: 25 }, (_, i) => ({
    ...leaky,
    id: 100 + i,
    checkId: 'LOGIN-05',
    // 23 identical login 200s, then a 401 and a getCurrentUser 200 late in the run
    ...(i === 23 ? { status: 401 } : i === 24 ? { operationId: 'getCurrentUser', request: { ...leaky.request, method: 'GET', url: 'http://localhost:3000/users/me' } } : {}),
  }));
  const partialEx: Exchange = { ...leaky, id: 200, checkId: 'TOTP-06' };
  const evidence: RunResult = {
    ...result,
    checks: [
      ...result.checks,
      { id: 'LOGIN-05', area: 'login', level: 'MUST', title: 'new session each login', outcome: 'pass', findings: [], notes: [], exchangeIds: many.map((e) => e.id), durationMs: 5 },
      { id: 'TOTP-06', area: 'totp', level: 'MUST', title: 'codes', outcome: 'partial', notVerified: ['the window reopening'], findings: [], notes: [], exchangeIds: [200], durationMs: 5 },
    ],
    exchanges: [leaky, ...many, partialEx],
  };

  it('shows every passing and partial check\'s exchanges collapsed, at most 20 a check, one per operation and status first, secrets masked', () => {
    const html = htmlReport(evidence);
    const section = (id: string): string => html.slice(html.indexOf(`<section id="${id}">`), html.indexOf('</section>', html.indexOf(`<section id="${id}">`)));
    const login05 = section('LOGIN-05');
    expect(login05).toContain('<summary>25 exchanges, 20 shown</summary>');
    expect(login05.match(/<details><summary>exchange #/gu)).toHaveLength(20);
    expect(login05).not.toContain('<details open>');
    expect(login05).toContain('exchange #123:'); // the 401, although late
    expect(login05).toContain('exchange #124:'); // getCurrentUser, although late
    expect(login05).not.toContain('exchange #122:');
    expect(login05).toContain('… and 5 more (the HAR export');
    const totp06 = section('TOTP-06');
    expect(totp06).toContain('Not verified: the window reopening');
    expect(totp06).toContain('exchange #200:');
    for (const secret of secrets) expect(html).not.toContain(secret);
  });
});

describe('which contract was checked (issue 20)', () => {
  const checked: RunResult = {
    ...result,
    contract: { title: 'Quazzar Space Authentication API', version: '1.0.0', sha256: 'ab'.repeat(32), released: true, source: 'openapi/releases/1.0.0.json' },
  };

  it('HTML, JSON and JUnit carry the title, version, sha256 digest and whether it is a released snapshot', () => {
    const html = htmlReport(checked);
    expect(html).toContain('Quazzar Space Authentication API 1.0.0');
    expect(html).toContain('ab'.repeat(32));
    expect(html).toContain('released snapshot');
    const json = JSON.parse(jsonReport(checked)) as RunResult;
    expect(json.contract).toEqual(checked.contract);
    const xml = junitXml(checked);
    expect(xml).toContain('<property name="contract.version" value="1.0.0"/>');
    expect(xml).toContain(`<property name="contract.sha256" value="${'ab'.repeat(32)}"/>`);
    expect(xml).toContain('<property name="contract.released" value="true"/>');
    expect(xml).toContain('<property name="contract.title" value="Quazzar Space Authentication API"/>');
    expect(htmlReport({ ...checked, contract: { ...checked.contract!, released: false } })).toContain('not a released snapshot');
  });

  it('contractInfo: the digest of the bundled JSON, and released only when it is byte for byte a snapshot', async () => {
    const { contractInfo } = await import('./contract-info.ts');
    const { mkdtemp, writeFile, mkdir } = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const dir = await mkdtemp(join(tmpdir(), 'qz-contract-'));
    const text = JSON.stringify({ openapi: '3.1.0', info: { title: 'T', version: '1.2.3' }, paths: {} });
    await mkdir(join(dir, 'releases'));
    await writeFile(join(dir, 'releases', '1.2.3.json'), text);
    await writeFile(join(dir, 'bundled.json'), text);
    await writeFile(join(dir, 'edited.json'), text.replace('"paths"', '"x-edited":1,"paths"'));
    const info = contractInfo(join(dir, 'bundled.json'), join(dir, 'releases'));
    expect(info).toMatchObject({ title: 'T', version: '1.2.3', released: true, sha256: createHash('sha256').update(text).digest('hex') });
    expect(contractInfo(join(dir, 'edited.json'), join(dir, 'releases')).released).toBe(false);
  });
});

describe('PARTIAL checks in JUnit and the HTML summary (issue 20)', () => {
  const partial: RunResult = {
    ...result,
    checks: [...result.checks, { id: 'TOTP-06', area: 'totp', level: 'MUST', title: 'lockout', outcome: 'partial', reason: 'not verified: the lock ends', notVerified: ['the lock ends after 900 s'], findings: [], notes: [], exchangeIds: [], durationMs: 5 }],
    summary: { ...result.summary, partial: 1 },
  };

  it('JUnit: a PARTIAL check is a skipped testcase saying partial and what was not verified, with an outcome property', () => {
    const xml = junitXml(partial);
    expect(xml).toMatch(/name="TOTP-06 [^"]*"[^>]*>\n {6}<properties>\n {8}<property name="outcome" value="partial"\/>\n {6}<\/properties>\n {6}<skipped message="partial: passed what could be verified; not verified: the lock ends after 900 s"\/>/u);
    expect(xml).toMatch(/<testsuite name="totp" tests="2" failures="0" errors="0" skipped="2"/u);
  });

  it('JUnit with --strict: a PARTIAL check is a failure (it fails the exit status)', () => {
    expect(junitXml({ ...partial, strict: true })).toMatch(/<failure message="partial \(--strict\): not verified: the lock ends after 900 s" type="TOTP-06">/u);
  });

  it('HTML: the summary counts the partial checks', () => {
    expect(htmlReport(partial)).toMatch(/1 partial/u);
  });
});

describe('--only subsets (issue 20)', () => {
  const passing = (id: string, area = 'login'): RunResult['checks'][number] => ({ id, area, level: 'MUST', title: id, outcome: 'pass', findings: [], notes: [], exchangeIds: [], durationMs: 1 });
  const subset: RunResult = {
    ...result,
    checks: [passing('LOGIN-01'), passing('LOGIN-02')],
    requirements: [{ ...passing('CONTRACT-STATUS', 'contract') }, { ...passing('CONTRACT-SCHEMA', 'contract') }, { ...passing('CONTRACT-HEADERS', 'contract') }],
    summary: { pass: 2, fail: 0, warn: 0, skip: 0, partial: 0, mustFailed: 0 },
    contractSummary: { pass: 3, fail: 0, warn: 0, skip: 0, partial: 0, mustFailed: 0 },
    subset: { run: 2, of: 97 },
    exitCode: 0,
    profiles: [
      { profile: 'core', title: 'Core', implemented: true, missing: [], blocked: [], pass: 2, fail: 0, warn: 0, partial: 0, skip: 0, notImplemented: 0 },
      { profile: 'api-keys', title: 'API keys', implemented: true, missing: [], blocked: [], pass: 0, fail: 0, warn: 0, partial: 0, skip: 0, notImplemented: 0 },
    ],
  };

  it('console: no CONFORMANT verdict, but SUBSET PASSED with N of M checks; counts checks apart from CONTRACT-*', () => {
    const lines = consoleSummary(subset);
    expect(lines.join('\n')).not.toMatch(/^CONFORMANT/mu);
    expect(lines.at(-1)).toBe('SUBSET PASSED — 2 of 97 checks run; not a conformance verdict (run every check for one).');
    const resultLine = lines.find((l) => l.startsWith('Result:'))!;
    expect(resultLine).toMatch(/^Result: 2 checks: 2 passed, 0 failed/u);
    expect(resultLine).toContain('contract requirements (CONTRACT-*): 3 passed, 0 failed');
  });

  it('console: a profile no check of the run exercised is "not tested", not "implemented"', () => {
    const lines = consoleSummary(subset);
    expect(lines.find((l) => l.trim().startsWith('api-keys'))).toMatch(/not tested$/u);
    expect(lines.find((l) => l.trim().startsWith('core'))).toMatch(/implemented$/u);
  });

  it('HTML and JSON: the same verdict', () => {
    expect(htmlReport(subset)).toContain('SUBSET PASSED');
    expect(htmlReport(subset)).not.toMatch(/>CONFORMANT/u);
    expect((JSON.parse(jsonReport(subset)) as { verdict: string }).verdict).toBe('SUBSET PASSED');
    expect((JSON.parse(jsonReport({ ...subset, subset: undefined })) as { verdict: string }).verdict).toBe('CONFORMANT');
  });

  it('a failing subset is NOT CONFORMANT all the same (a MUST failure proves it)', () => {
    const failing: RunResult = { ...subset, exitCode: 1, summary: { ...subset.summary, fail: 1, mustFailed: 1 } };
    expect(consoleSummary(failing).at(-1)).toMatch(/^NOT CONFORMANT/u);
  });
});
