// The three outputs of `npm run contract:diff`: a console table, Markdown (a pull-request
// comment; the changelog reuses it) and JSON.
import { compareSemver } from './bundle.ts';
import type { Change, DiffResult, Severity } from './diff.ts';

const SEVERITIES: Severity[] = ['breaking', 'non-breaking', 'informational'];
const TITLES: Record<Severity, string> = {
  breaking: 'Breaking changes',
  'non-breaking': 'Non-breaking changes',
  informational: 'Informational (documentation, annotations)',
};

const opsText = (ops: string[], max = 4): string =>
  ops.length === 0 ? '—' : ops.length <= max ? ops.join(', ') : `${ops.slice(0, max).join(', ')} and ${ops.length - max} more`;

export const counts = (changes: Change[]): Record<Severity, number> => ({
  breaking: changes.filter((c) => c.severity === 'breaking').length,
  'non-breaking': changes.filter((c) => c.severity === 'non-breaking').length,
  informational: changes.filter((c) => c.severity === 'informational').length,
});

/** Why the suggested version is what it is: `1 non-breaking change(s): a new minor`. */
export function versionReason(result: DiffResult): string {
  const c = counts(result.changes);
  if (c.breaking) return `${c.breaking} breaking change(s): a new major`;
  if (c['non-breaking']) return `${c['non-breaking']} non-breaking change(s): a new minor`;
  return result.changes.length ? 'informational change(s) only: a new patch' : 'no change';
}

/** The version to release, in words (every format ends with it; JSON also has `verdict.suggested`). */
export function releaseAdvice(result: DiffResult): string {
  const { suggested } = result.verdict;
  const after = result.after.version;
  if (result.changes.length === 0) return `Release: nothing to release, no change since ${result.before.version}.`;
  if (after === suggested) return `Release as ${suggested}: info.version is already ${suggested}, run npm run contract:release.`;
  if (result.verdict.ok && /^\d+\.\d+\.\d+$/u.test(after) && compareSemver(after, suggested) > 0) {
    return `Release as ${after}: info.version ${after} is above the smallest fitting version ${suggested} (${versionReason(result)}), run npm run contract:release.`;
  }
  return `Release as ${suggested} (${versionReason(result)}): set info.version: ${suggested} in openapi/openapi.yaml, npm run generate, npm run contract:release.`;
}

export function formatJson(result: DiffResult, base: string): string {
  return `${JSON.stringify({ base, ...result, counts: counts(result.changes) }, null, 2)}\n`;
}

/** A plain table for the terminal: one line per change, columns padded. */
export function formatTable(result: DiffResult, base: string): string {
  const header = ['severity', 'side', 'rule', 'where', 'change', 'operations'];
  const rows = result.changes.map((c) => [c.severity, c.side, c.rule, c.where, c.message, opsText(c.operations, 2)]);
  const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const limits = [13, 8, 22, 44, 80, 60];
  const cells = [header, ...rows].map((r) => r.map((cell, i) => clip(cell, limits[i]!)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const c = counts(result.changes);
  const out = [
    `contract diff: ${base} (${result.before.version}) → working tree (${result.after.version})`,
    '',
    ...(rows.length ? [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)] : ['no change']),
    '',
    `${c.breaking} breaking, ${c['non-breaking']} non-breaking, ${c.informational} informational`,
    `${result.verdict.ok ? 'OK' : 'FAIL'}: ${result.verdict.message}`,
    releaseAdvice(result),
  ];
  return `${out.join('\n')}\n`;
}

const md = (s: string): string => s.replace(/\|/gu, '\\|').replace(/\n/gu, ' ');

/** The change lists by severity, request and response apart (used by the PR comment and the changelog). */
export function markdownChanges(changes: Change[], headingLevel = 3): string {
  const h = '#'.repeat(headingLevel);
  const parts: string[] = [];
  for (const severity of SEVERITIES) {
    const list = changes.filter((c) => c.severity === severity);
    if (!list.length) continue;
    parts.push(`${h} ${TITLES[severity]} (${list.length})`, '');
    parts.push('| side | where | change | operations | rule |', '|---|---|---|---|---|');
    for (const c of list) parts.push(`| ${c.side} | ${md(c.where)} | ${md(c.message)} | ${md(opsText(c.operations))} | ${c.rule} |`);
    parts.push('');
  }
  return parts.join('\n');
}

export function formatMarkdown(result: DiffResult, base: string): string {
  const c = counts(result.changes);
  const verdict = result.verdict.ok ? `✅ ${result.verdict.message}` : `❌ ${result.verdict.message}`;
  return [
    `## Contract diff: \`${base}\` (${result.before.version}) → this branch (${result.after.version})`,
    '',
    `**${c.breaking} breaking**, ${c['non-breaking']} non-breaking, ${c.informational} informational. ${verdict}`,
    '',
    `**${releaseAdvice(result)}**`,
    '',
    result.changes.length ? markdownChanges(result.changes) : '_No change to the contract._\n',
  ].join('\n');
}
