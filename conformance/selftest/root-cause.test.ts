import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../run.ts';
import { startBrokenProxy, withoutHeader, type Mutation } from './broken-proxy.ts';
import { startReference, type RunningReference } from './reference-server.ts';

// Root causes once: a deployment that never sends the RateLimit header breaks CONTRACT-HEADERS
// on nearly every answer. The suite must report that requirement once, with every exchange that
// showed it, and the checks that only tripped over it must say they were blocked by it rather
// than fail with the same finding again.

const NO_RATELIMIT_HEADER: Mutation = { onResponse: (_req, res) => withoutHeader(res, 'ratelimit') };

describe('conformance suite vs a deployment missing one header everywhere', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference();
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('fails CONTRACT-HEADERS once and marks the checks that met it as blocked by it', async () => {
    const proxy = await startBrokenProxy(ref.url, NO_RATELIMIT_HEADER);
    try {
      const result = await runConformance({
        baseUrl: proxy.url,
        clientIpHeader: ref.clientIpHeader!,
        harnessUrl: ref.harnessUrl,
        harnessToken: ref.harnessToken,
        only: ['sessions', 'users'],
        reportDir: null,
        log: () => {},
      });
      const headers = result.requirements.find((r) => r.id === 'CONTRACT-HEADERS')!;
      expect(headers.outcome).toBe('fail');
      expect(headers.findings[0]!.message).toMatch(/ratelimit/iu);
      expect(headers.exchangeIds.length).toBeGreaterThan(10);
      expect(result.exitCode).toBe(1);
      const failedChecks = result.checks.filter((c) => c.outcome === 'fail').map((c) => `${c.id}: ${c.reason}`);
      expect(failedChecks).toEqual([]);
      const blocked = result.checks.filter((c) => c.outcome === 'skip' && /^blocked by CONTRACT-HEADERS/u.test(c.reason ?? ''));
      expect(blocked.length).toBeGreaterThan(3);
      console.log(`root-cause variant: CONTRACT-HEADERS failed once over ${headers.exchangeIds.length} exchanges; ${blocked.length} checks blocked by it, 0 repeated failures`);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
