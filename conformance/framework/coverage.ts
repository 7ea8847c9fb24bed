import type { Contract, CoverageCell, Exchange } from './types.ts';

/** Every operation × every documented status, with how many exchanges answered it. */
export function coverageMatrix(contract: Contract, exchanges: readonly Exchange[]): { cells: CoverageCell[]; undocumented: string[] } {
  const counts = new Map<string, number>();
  for (const ex of exchanges) if (ex.operationId) counts.set(`${ex.operationId} ${ex.status}`, (counts.get(`${ex.operationId} ${ex.status}`) ?? 0) + 1);
  const cells: CoverageCell[] = [];
  const documented = new Set<string>();
  for (const op of contract.operations) {
    for (const status of op.statuses) {
      documented.add(`${op.operationId} ${status}`);
      cells.push({ operationId: op.operationId, method: op.method, path: op.path, status, exercised: counts.get(`${op.operationId} ${status}`) ?? 0 });
    }
  }
  const undocumented = [...counts.keys()].filter((key) => !documented.has(key) && !key.endsWith(' 0')).sort();
  return { cells, undocumented };
}
