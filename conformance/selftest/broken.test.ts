import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../run.ts';
import { startBrokenProxy, type Mutation } from './broken-proxy.ts';
import { variants } from './broken-variants.ts';
import { startReference, type RunningReference } from './reference-server.ts';

// The suite must FAIL against deployments that break the contract, and name the requirement.
// Each variant is the reference server behind a mutating proxy; only the areas that can see
// the breakage run (`--only`), so the whole file stays around a minute.

describe('conformance suite vs deliberately broken deployments', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference();
  });
  afterAll(async () => {
    await ref?.close();
  });

  async function runAgainst(mutation: Mutation, only: string[]) {
    // Each run gets the variant's proxy in front of the one reference server.
    const proxy = await startBrokenProxy(ref.url, mutation);
    try {
      return await runConformance({
        baseUrl: proxy.url,
        smtpPort: ref.smtpPort,
        clientIpHeader: ref.clientIpHeader!,
        // The harness is reached directly: it is the operator's back door, not the deployment.
        harnessUrl: ref.harnessUrl,
        harnessToken: ref.harnessToken,
        tokenSigningKey: ref.tokenSigningKey,
        only,
        reportDir: null,
        log: () => {},
      });
    } finally {
      await proxy.close();
    }
  }

  it.each(variants.map((v) => [v.name, v] as const))('catches: %s', async (_name, variant) => {
    const result = await runAgainst(variant.mutation({ harnessUrl: ref.harnessUrl, harnessToken: ref.harnessToken, tokenSigningKey: ref.tokenSigningKey }), variant.only);
    const ids = (outcome: string) => [...result.checks, ...result.requirements].filter((r) => r.outcome === outcome).map((r) => r.id);
    expect(result.checks.length, 'the --only selection ran no check').toBeGreaterThan(0);
    if (variant.warns) {
      // A broken SHOULD is a warning: reported, but the run still passes.
      expect(ids('warn').filter((id) => variant.warns!.includes(id)), `warned: ${ids('warn').join(', ')}`).not.toEqual([]);
      return;
    }
    expect(result.exitCode).toBe(1);
    expect(ids('fail').filter((id) => variant.catches.includes(id)), `failed: ${ids('fail').join(', ')}`).not.toEqual([]);
  }, 60_000);
});
