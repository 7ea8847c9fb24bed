import type { RunResult } from '../framework/types.ts';
import './contract-info.ts';

// What a run may claim (docs/DECISIONS.md, "What a subset run may claim"): CONFORMANT only
// when every check of the suite was selected and no MUST failed; a subset that passed says so
// and no more; a MUST failure proves non-conformance whatever was selected.

export type Verdict = 'CONFORMANT' | 'NOT CONFORMANT' | 'SUBSET PASSED' | 'INTERRUPTED';

export function verdictOf(result: Pick<RunResult, 'exitCode' | 'interrupted' | 'subset'>): Verdict {
  if (result.exitCode !== 0) return 'NOT CONFORMANT';
  if (result.interrupted) return 'INTERRUPTED';
  return result.subset ? 'SUBSET PASSED' : 'CONFORMANT';
}

/** The closing line of the console summary. */
export function verdictLine(result: RunResult): string {
  const s = result.summary;
  const subset = result.subset ? ` (${result.subset.run} of ${result.subset.of} checks run)` : '';
  switch (verdictOf(result)) {
    case 'NOT CONFORMANT':
      return s.mustFailed === 0 && !result.contractSummary?.mustFailed
        ? `NOT CONFORMANT (--strict): part of a requirement was not verified (PARTIAL)${subset}.`
        : `NOT CONFORMANT: at least one MUST requirement failed${subset}.`;
    case 'INTERRUPTED':
      return 'INTERRUPTED: no MUST requirement failed among the checks that ran; the others were skipped.';
    case 'SUBSET PASSED':
      return `SUBSET PASSED — ${result.subset!.run} of ${result.subset!.of} checks run; not a conformance verdict (run every check for one).`;
    default:
      return 'CONFORMANT: no MUST requirement failed.';
  }
}
