import type { CheckResult, RunResult } from '../framework/types.ts';
import { securityOf } from '../requirements/evidence.ts';

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
    const failures = cases.filter((r) => r.outcome === 'fail').length;
    const skipped = cases.filter((r) => r.outcome === 'skip').length;
    const time = cases.reduce((t, r) => t + r.durationMs, 0) / 1000;
    return [
      `  <testsuite name="${esc(area)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time.toFixed(3)}">`,
      ...cases.map(testcase),
      '  </testsuite>',
    ].join('\n');
  });
  const failures = all.filter((r) => r.outcome === 'fail').length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="quazzar-conformance" tests="${all.length}" failures="${failures}" errors="0" time="${(result.durationMs / 1000).toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(r: CheckResult): string {
  const open = `    <testcase classname="${esc(r.area)}" name="${esc(`${r.id} [${r.level}] ${r.title}`)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
  const details = r.findings.map((f) => `${f.requirement}: ${f.message}${f.exchangeId ? ` [exchange #${f.exchangeId}]` : ''}`).join('\n');
  const security = securityOf(r);
  const props = security.length
    ? `\n      <properties>\n${security.map((s) => `        <property name="${esc(s.id)}" value="${esc(s.text)}"/>`).join('\n')}\n      </properties>`
    : '';
  if (r.outcome === 'fail') return `${open}>${props}\n      <failure message="${esc(r.reason ?? 'failed')}" type="${esc(r.id)}">${esc(details)}</failure>\n    </testcase>`;
  if (r.outcome === 'skip') return `${open}>${props}\n      <skipped message="${esc(r.reason ?? 'skipped')}"/>\n    </testcase>`;
  if (r.outcome === 'warn') return `${open}>${props}\n      <system-out>${esc(`WARNING (SHOULD): ${details}`)}</system-out>\n    </testcase>`;
  return props ? `${open}>${props}\n    </testcase>` : `${open}/>`;
}
