import { formatDuration } from '../framework/estimate.ts';
import { profileLines } from '../framework/profiles.ts';
import type { RunResult } from '../framework/types.ts';
import { securityOf } from '../requirements/evidence.ts';
import { verdictLine } from './verdict.ts';

/** The readable end-of-run summary (lines, printed by the caller). */
export function consoleSummary(result: RunResult): string[] {
  const lines: string[] = [''];
  const all = [...result.checks, ...result.requirements];
  const bad = all.filter((r) => r.outcome === 'fail' || r.outcome === 'warn');
  if (bad.length) {
    lines.push('Failures and warnings:');
    for (const r of bad) {
      lines.push(`  ${r.outcome === 'fail' ? 'FAIL' : 'WARN'} ${r.id} ${r.level} — ${r.title}`);
      for (const f of r.findings.slice(0, 5)) lines.push(`       ${f.message}${f.exchangeId ? ` [#${f.exchangeId}]` : ''}`);
      if (r.findings.length > 5) lines.push(`       … ${r.findings.length - 5} more (see the HTML report)`);
      for (const sec of securityOf(r)) lines.push(`       ${sec.id}: ${sec.text}`);
    }
  }
  const partial = all.filter((r) => r.outcome === 'partial');
  if (partial.length) {
    lines.push('Partial (passed what could be verified):');
    for (const r of partial) lines.push(`  PARTIAL ${r.id} ${r.level} — not verified: ${(r.notVerified ?? []).join('; ')}`);
  }
  const skipped = all.filter((r) => r.outcome === 'skip');
  if (skipped.length) {
    lines.push('Skipped:');
    for (const r of skipped) lines.push(`  SKIP ${r.id} — ${r.reason ?? ''}`);
  }
  if (result.profiles) lines.push(...profileLines(result.profiles));
  const exercised = result.coverage.filter((c) => c.exercised > 0).length;
  const missing = result.coverage.filter((c) => c.exercised === 0);
  lines.push(
    `Coverage: ${exercised}/${result.coverage.length} documented (operation, status) pairs exercised${
      missing.length === 0 ? '' : missing.length <= 15 ? `; not exercised: ${missing.map((c) => `${c.operationId} ${c.status}`).join(', ')}` : ' (the HTML report shows which are not)'
    }`,
  );
  if (result.undocumented.length) lines.push(`Undocumented answers: ${result.undocumented.join(', ')}`);
  lines.push(`Unplanned 429 answers: ${result.unplanned429}`);
  if (result.seed !== undefined) lines.push(`Seed: ${result.seed} (replay the generated requests with --seed ${result.seed})`);
  if (result.leftBehind.length) {
    lines.push('Left behind on the deployment:');
    for (const item of result.leftBehind) lines.push(`  - ${item}`);
  }
  lines.push(`Result: ${resultCounts(result)} — ${result.exchanges.length} requests in ${formatDuration(result.durationMs)} (estimated ${formatDuration(result.estimatedMs)})`);
  lines.push(verdictLine(result));
  return lines;
}

/** "14 checks: 12 passed, …; contract requirements (CONTRACT-*): 7 passed, 0 failed": the
 * checks run and the CONTRACT-* requirements their answers were judged by, each counted
 * apart (a subset of 14 checks must not read "21 passed"). */
export function resultCounts(result: RunResult): string {
  const s = result.summary;
  const partial = s.partial ?? result.checks.filter((r) => r.outcome === 'partial').length;
  const checks = `${result.checks.length} checks: ${s.pass} passed, ${s.fail} failed (${s.mustFailed} MUST), ${s.warn} warnings, ${partial} partial, ${s.skip} skipped`;
  const c = result.contractSummary;
  return c ? `${checks}; contract requirements (CONTRACT-*): ${c.pass} passed, ${c.fail} failed` : checks;
}
