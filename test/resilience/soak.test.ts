import { expect, it } from 'vitest';
import { describeSoak, runSoak } from './soak/run-soak.ts';

// The small soak of npm test (10,000 requests from 5,000 addresses, a real server process);
// `npm run soak` runs the full one (100,000 from 50,000). The limit on RSS growth over the
// second half of the run (every address already seen, so no new budget) is loose: it catches
// a leak of kilobytes per request, not GC noise.
it('RSS stays flat once every client address has a budget; no 5xx', { timeout: 120_000 }, async () => {
  const result = await runSoak(Number(process.env.SOAK_REQUESTS ?? 10_000), Number(process.env.SOAK_ADDRESSES ?? 5_000));
  process.stdout.write(describeSoak(result) + '\n');
  expect(result.fiveXx).toBe(0);
  expect(result.limiterKeys).toBeGreaterThan(0);
  expect(result.rssMb.at(-1)!).toBeLessThanOrEqual(result.rssMb[4]! + 32);
});
