import type { CheckResult, Exchange, Level } from './types.ts';
import { CONTRACT_REQUIREMENTS } from './validate-exchange.ts';

const MAX_FINDINGS = 40;

/** One result per CONTRACT-* requirement over every exchange of the run (all MUST). The proxy
 * and check-har pass their own catalogue (CONTRACT-* and TRAFFIC-*) and levels: a SHOULD
 * requirement with violations is a warning. */
export function requirementResults(
  exchanges: readonly Exchange[],
  catalogue: Record<string, string> = CONTRACT_REQUIREMENTS,
  opts: { area?: (id: string) => string; level?: (id: string) => Level } = {},
): CheckResult[] {
  return Object.entries(catalogue).map(([id, title]) => {
    const level = opts.level?.(id) ?? 'MUST';
    const hits = exchanges.flatMap((ex) => ex.violations.filter((v) => v.requirement === id).map((v) => ({ ex, v })));
    const findings = hits.slice(0, MAX_FINDINGS).map(({ ex, v }) => ({
      message: `${ex.request.method} ${new URL(ex.request.url).pathname} → ${ex.status} (${ex.checkId}): ${v.message}`,
      requirement: id,
      exchangeId: ex.id,
    }));
    if (hits.length > MAX_FINDINGS) findings.push({ message: `… and ${hits.length - MAX_FINDINGS} more`, requirement: id, exchangeId: hits[MAX_FINDINGS]!.ex.id });
    return {
      id,
      area: opts.area?.(id) ?? 'contract',
      level,
      title,
      outcome: hits.length ? (level === 'SHOULD' ? ('warn' as const) : ('fail' as const)) : ('pass' as const),
      ...(hits.length ? { reason: findings[0]!.message } : {}),
      findings,
      notes: [
        `${exchanges.length} exchanges validated${hits.length ? `; ${new Set(hits.map((h) => h.ex.id)).size} showed this violation` : ''}`,
        ...(hits.length ? [`checks that met it: ${[...new Set(hits.map((h) => h.ex.checkId))].join(', ')}`] : []),
      ],
      exchangeIds: [...new Set(hits.map((h) => h.ex.id))],
      durationMs: 0,
    };
  });
}
