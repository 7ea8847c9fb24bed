import type { CheckResult, RunResult } from '../framework/types.ts';
import { securityOf } from '../requirements/evidence.ts';
import { maskExchange } from './mask.ts';
import { verdictOf } from './verdict.ts';

/** The whole run as JSON, every exchange masked; each result with the SECURITY.md
 * requirements its title cites (`security`: id, title, text); first the verdict (what the run
 * may claim, verdict.ts), and `contract`: which contract was checked (contract-info.ts). */
export function jsonReport(result: RunResult): string {
  const exchanges = result.exchanges.map((ex) => {
    const masked = maskExchange(ex);
    // A parsed body is kept once (as `body`), not twice.
    return masked.body === undefined ? masked : { ...masked, text: undefined };
  });
  const withEvidence = (r: CheckResult): CheckResult => ({ ...r, security: securityOf(r) });
  return `${JSON.stringify({ verdict: verdictOf(result), ...result, checks: result.checks.map(withEvidence), requirements: result.requirements.map(withEvidence), exchanges }, null, 2)}\n`;
}
