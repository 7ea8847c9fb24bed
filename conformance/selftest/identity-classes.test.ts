import { describe, expect, it } from 'vitest';
import { runConformance } from '../run.ts';
import { startReference } from './reference-server.ts';
import { identityFaults } from './variants/identity-faults.ts';

// Issue 19, equivalence classes of identity: a reference server whose budget forgets that two
// spellings are one account (one client) — planted server-side — fails the IDENTITY check that
// drives that budget over spellings, and only it: the checks that drive the same budget in one
// spelling (RATE-04, HARDENING-03, HARDENING-06, RATE-09, RATE-10) pass against it.

describe('identity classes: budgets that key by the spelling are caught', () => {
  it.each(identityFaults.map((f) => [f.name, f] as const))('catches: %s', async (_name, fault) => {
    const ref = await startReference({ prepare: (built) => fault.plant(built) });
    try {
      const result = await runConformance({
        baseUrl: ref.url,
        smtpPort: ref.smtpPort,
        clientIpHeader: ref.clientIpHeader!,
        harnessUrl: ref.harnessUrl,
        harnessToken: ref.harnessToken,
        tokenSigningKey: ref.tokenSigningKey,
        only: fault.only,
        reportDir: null,
        log: () => {},
      });
      const outcomes = Object.fromEntries(result.checks.map((c) => [c.id, c.outcome]));
      const reasons = result.checks.map((c) => `${c.id} ${c.outcome}: ${c.reason ?? ''}`).join('\n');
      expect(Object.keys(outcomes).sort(), reasons).toEqual([...fault.only].sort());
      for (const id of fault.catches) expect([id, outcomes[id]], reasons).toEqual([id, 'fail']);
      // The one-spelling checks of the same budget do not see it: the fault is in the class.
      for (const id of fault.only.filter((id) => !fault.catches.includes(id))) expect([id, outcomes[id]], reasons).toEqual([id, 'pass']);
      expect(result.exitCode).toBe(1);
      const failure = result.checks.find((c) => c.id === fault.catches[0]);
      console.log(`${fault.name}: ${fault.catches.join(', ')} fail — ${failure?.reason ?? ''}`);
    } finally {
      await ref.close();
    }
  }, 60_000);

  it('catches login-failures-as-typed with one address, the harness clock moving the login windows on', async () => {
    const fault = identityFaults.find((f) => f.name === 'login-failures-as-typed')!;
    const ref = await startReference({ trustClientIpHeader: false, prepare: (built) => fault.plant(built) });
    try {
      const result = await runConformance({
        baseUrl: ref.url,
        smtpPort: ref.smtpPort,
        harnessUrl: ref.harnessUrl,
        harnessToken: ref.harnessToken,
        tokenSigningKey: ref.tokenSigningKey,
        only: ['IDENTITY-01', 'RATE-04'],
        reportDir: null,
        log: () => {},
      });
      const outcomes = Object.fromEntries(result.checks.map((c) => [c.id, c.outcome]));
      const reasons = result.checks.map((c) => `${c.id} ${c.outcome}: ${c.reason ?? ''}`).join('\n');
      expect(outcomes, reasons).toEqual({ 'IDENTITY-01': 'fail', 'RATE-04': 'pass' });
      expect(result.unplanned429).toBe(0);
    } finally {
      await ref.close();
    }
  }, 60_000);
});
