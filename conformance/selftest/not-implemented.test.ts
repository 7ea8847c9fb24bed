import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../run.ts';
import { startBrokenProxy, type Mutation } from './broken-proxy.ts';
import { startReference, type RunningReference } from './reference-server.ts';

// A deployment that has not built a whole feature yet: the reference server behind a proxy
// that sends every API-key and project request to an unknown path, so those documented
// operations answer the server's own global 404. The suite must say "not implemented" once for
// that profile, skip the checks that need it, and find nothing else wrong (zero MUST failures).

const WITHOUT_KEYS_AND_PROJECTS: Mutation = {
  onRequest(request) {
    if (/^\/(users\/me\/api-keys|projects)(\/|$)/u.test(request.path)) {
      request.url = `/not-built-yet${request.url}`;
      request.path = `/not-built-yet${request.path}`;
    }
  },
};

describe('conformance suite vs a deployment without the API-key and project operations', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference();
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('reports the profile as not implemented, skips its checks and fails nothing', async () => {
    const proxy = await startBrokenProxy(ref.url, WITHOUT_KEYS_AND_PROJECTS);
    const lines: string[] = [];
    try {
      const result = await runConformance({
        baseUrl: proxy.url,
        smtpPort: ref.smtpPort,
        clientIpHeader: ref.clientIpHeader!,
        harnessUrl: ref.harnessUrl,
        harnessToken: ref.harnessToken,
        reportDir: null,
        log: (line) => lines.push(line),
      });
      const failed = [...result.checks, ...result.requirements].filter((r) => r.outcome === 'fail').map((r) => `${r.id}: ${r.reason}`);
      expect(failed).toEqual([]);
      expect(result.exitCode).toBe(0);
      const missing = (result.notImplemented ?? []).map((n) => n.operationId).sort();
      expect(missing.length).toBeGreaterThan(0);
      expect(missing.every((id) => ['createApiKey', 'listApiKeys', 'revokeApiKey', 'listProjects', 'createProject', 'getProject'].includes(id))).toBe(true);
      const row = result.profiles!.find((r) => r.profile === 'api-keys')!;
      expect(row).toMatchObject({ implemented: false, fail: 0 });
      expect(row.notImplemented).toBeGreaterThan(0);
      expect(result.profiles!.filter((r) => r.profile !== 'api-keys' && r.profile !== 'harness').every((r) => r.implemented)).toBe(true);
      // Once, clearly, not once per check.
      expect(lines.filter((l) => l.startsWith('NOT IMPLEMENTED:'))).toHaveLength(1);
      expect(lines.find((l) => l.startsWith('NOT IMPLEMENTED:'))).toMatch(/API keys and projects/u);
      const keyChecks = result.checks.filter((c) => c.area === 'api-keys');
      expect(keyChecks.every((c) => c.outcome === 'skip' && /^not implemented/u.test(c.reason ?? '')), keyChecks.map((c) => `${c.id} ${c.outcome} ${c.reason}`).join('\n')).toBe(true);
      console.log(`not-implemented variant: ${lines.find((l) => l.startsWith('NOT IMPLEMENTED:'))}; ${result.summary.skip} skipped, ${result.summary.fail} failed`);
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
