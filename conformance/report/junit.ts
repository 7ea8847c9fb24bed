import type { CheckResult, RunResult } from '../framework/types.ts';
import { securityOf } from '../requirements/evidence.ts';
import { describeChecked } from './contract-info.ts';

const esc = (s: string): string =>
  s.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/gu, '');

/** JUnit XML: one testcase per requirement id (checks and CONTRACT-*), grouped by area.
 * A SHOULD failure is not a JUnit failure (it does not fail the run): it is in system-out.
 * The SECURITY.md requirements a title cites are testcase properties (`SEC 12` = its text). */
export function junitXml(result: RunResult): string {
  const all = [...result.checks, ...result.requirements];
  const areas = [...new Set(all.map((r) => r.area))];
  const suites = areas.map((area) => {
    const cases = all.filter((r) => r.area === area);
    const strictPartial = (r: CheckResult) => r.outcome === 'partial' && !!result.strict;
    const failures = cases.filter((r) => r.outcome === 'fail' || strictPartial(r)).length;
    const skipped = cases.filter((r) => r.outcome === 'skip' || (r.outcome === 'partial' && !result.strict)).length;
    const time = cases.reduce((t, r) => t + r.durationMs, 0) / 1000;
    return [
      `  <testsuite name="${esc(area)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time.toFixed(3)}">`,
      ...contractProperties(result),
      ...cases.map((r) => testcase(r, !!result.strict)),
      '  </testsuite>',
    ].join('\n');
  });
  const failures = all.filter((r) => r.outcome === 'fail' || (r.outcome === 'partial' && result.strict)).length;
  const name = `quazzar-conformance${result.contract ? ` — ${describeChecked(result.contract, 12)}` : ''}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(name)}" tests="${all.length}" failures="${failures}" errors="0" time="${(result.durationMs / 1000).toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

/** The contract checked, as properties of every testsuite (the JUnit schema has properties on
 * testsuite, not on testsuites; CI tools show them with each suite). */
function contractProperties(result: RunResult): string[] {
  const c = result.contract;
  if (!c) return [];
  const prop = (name: string, value: string) => `      <property name="${esc(name)}" value="${esc(value)}"/>`;
  return ['    <properties>', prop('contract.title', c.title), prop('contract.version', c.version), prop('contract.sha256', c.sha256), prop('contract.released', String(c.released)), '    </properties>'];
}

/** A PARTIAL check (what could be checked passed, part of the requirement was not verified) is
 * a skipped testcase whose message starts "partial:" — every CI renderer shows skipped ones
 * apart from passes, and none fails the build on them, as the exit status does not; with
 * `--strict` it fails the exit status, so it is a failure. Either way an `outcome` property
 * says partial (docs/DECISIONS.md, "PARTIAL in JUnit"). */
function testcase(r: CheckResult, strict: boolean): string {
  const open = `    <testcase classname="${esc(r.area)}" name="${esc(`${r.id} [${r.level}] ${r.title}`)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
  const details = r.findings.map((f) => `${f.requirement}: ${f.message}${f.exchangeId ? ` [exchange #${f.exchangeId}]` : ''}`).join('\n');
  const properties = [
    ...(r.outcome === 'partial' ? [{ id: 'outcome', text: 'partial' }] : []),
    ...securityOf(r),
  ];
  const props = properties.length
    ? `\n      <properties>\n${properties.map((s) => `        <property name="${esc(s.id)}" value="${esc(s.text)}"/>`).join('\n')}\n      </properties>`
    : '';
  if (r.outcome === 'partial') {
    const notVerified = `not verified: ${(r.notVerified ?? []).join('; ') || r.reason || ''}`;
    if (strict) return `${open}>${props}\n      <failure message="${esc(`partial (--strict): ${notVerified}`)}" type="${esc(r.id)}">${esc(notVerified)}</failure>\n    </testcase>`;
    return `${open}>${props}\n      <skipped message="${esc(`partial: passed what could be verified; ${notVerified}`)}"/>\n    </testcase>`;
  }
  if (r.outcome === 'fail') return `${open}>${props}\n      <failure message="${esc(r.reason ?? 'failed')}" type="${esc(r.id)}">${esc(details)}</failure>\n    </testcase>`;
  if (r.outcome === 'skip') return `${open}>${props}\n      <skipped message="${esc(r.reason ?? 'skipped')}"/>\n    </testcase>`;
  if (r.outcome === 'warn') return `${open}>${props}\n      <system-out>${esc(`WARNING (SHOULD): ${details}`)}</system-out>\n    </testcase>`;
  return props ? `${open}>${props}\n    </testcase>` : `${open}/>`;
}
