import { describe, it } from 'vitest';
import { runFuzz } from './fuzz/fuzz-run.ts';

// Seeded property-based fuzz of every operation of the contract (see fuzz/): zero 5xx, every
// answer valid against the contract, the server healthy afterwards. FUZZ_SEED, FUZZ_RUNS and
// FUZZ_SHRINK=1 change the run; the seed is printed before and on failure.
const BUDGET_MS = Number(process.env.FUZZ_TIMEOUT_MS ?? 90_000);

describe('hostile input at volume', () => {
  it('SQLite: zero 5xx and only documented answers', { timeout: BUDGET_MS }, async () => {
    await runFuzz(false);
  });

  // CI sets TEST_DATABASE_URL; each run gets its own schema, dropped afterwards.
  it.skipIf(process.env.TEST_DATABASE_URL === undefined)(
    'PostgreSQL: zero 5xx and only documented answers (skipped without TEST_DATABASE_URL=postgres://…)',
    { timeout: BUDGET_MS },
    async () => {
      await runFuzz(true);
    },
  );
});
