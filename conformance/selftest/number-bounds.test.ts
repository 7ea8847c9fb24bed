import { afterEach, describe, expect, it } from 'vitest';
import { createContract } from '../framework/contract.ts';
import { contractNumbers } from '../framework/contract-numbers.ts';
import { allChecks } from '../checks/index.ts';
import { runConformance } from '../run.ts';
import { readFileSync } from 'node:fs';
import { startReference, type RunningReference } from './reference-server.ts';
import { numberFaults } from './variants/number-faults.ts';

// Issue 19, "both sides of every number": every number the contract states has a check that
// holds it from below, and a server whose lock, window, lifetime or recent-authentication
// window ends early — announcing the documented number all the while — fails that check by
// name while the older from-above checks of the same number pass it.

const FROM_BELOW = ['RATE-40', 'RATE-04', 'TOTP-40', 'SESSIONS-40', 'RESET-40', 'HARDENING-40', 'HARDENING-41', 'NEGATIVE-40'];

let ref: RunningReference | undefined;
afterEach(async () => {
  await ref?.close();
  ref = undefined;
});

const run = (r: RunningReference, only: string[]) =>
  runConformance({
    baseUrl: r.url,
    tokenSigningKey: r.tokenSigningKey,
    smtpPort: r.smtpPort,
    clientIpHeader: r.clientIpHeader!,
    harnessUrl: r.harnessUrl,
    harnessToken: r.harnessToken,
    only,
    reportDir: null,
    log: () => {},
  } as Parameters<typeof runConformance>[0]);

describe('contract numbers', () => {
  it('lists every number of the contract, each with a registered check on both sides', () => {
    const contract = createContract(JSON.parse(readFileSync('generated/openapi.json', 'utf8')));
    const numbers = contractNumbers(contract);
    const names = numbers.map((n) => `${n.name} = ${n.value}`);
    expect(names).toEqual(expect.arrayContaining([
      'x-rate-limit "login" (login) window_seconds = 60',
      'x-rate-limit-failures "login-failures" (login) window_seconds = 3600',
      'x-rate-limit-recipient "password-reset-recipient" (requestPasswordReset) limit = 3',
      'x-totp-lockout.lock_seconds = 900',
      'x-totp-lockout.max_failures = 5',
      'session token lifetime (login) = 3600',
      'reset token lifetime (requestPasswordReset) = 3600',
      'x-recent-authentication.max_age_seconds = 600',
      'x-request-body-limit-bytes = 16384',
    ]));
    const ids = new Set(allChecks.map((c) => c.id));
    for (const n of numbers) {
      expect(ids, n.name).toContain(n.fromBelow);
      expect(ids, n.name).toContain(n.fromAbove);
    }
  });
});

describe('from-below checks vs the reference server and faults that end a number early', () => {
  it('the reference server passes every from-below check', async () => {
    ref = await startReference();
    const result = await run(ref, FROM_BELOW);
    const outcomes = Object.fromEntries(result.checks.map((c) => [c.id, `${c.outcome}${c.reason ? `: ${c.reason}` : ''}`]));
    for (const id of FROM_BELOW) expect(outcomes[id], id).toBe('pass');
    expect(result.unplanned429).toBe(0);
  }, 60_000);

  for (const fault of numberFaults) {
    it(`${fault.name}: ${fault.catches} fails and names the number${fault.passes.length ? `; ${fault.passes.join(', ')} (from above) pass` : ''}`, async () => {
      ref = await startReference({ prepare: (built) => fault.plant(built) });
      const result = await run(ref, [fault.catches, ...fault.passes]);
      const byId = new Map(result.checks.map((c) => [c.id, c]));
      const caught = byId.get(fault.catches)!;
      expect(caught.outcome, JSON.stringify(caught.findings)).toBe('fail');
      expect(caught.findings.some((f) => f.requirement === fault.catches && fault.finding.test(f.message)), JSON.stringify(caught.findings)).toBe(true);
      for (const id of fault.passes) expect(byId.get(id)?.outcome, `${id}: ${JSON.stringify(byId.get(id)?.findings)}`).toBe('pass');
      expect(result.exitCode).toBe(1);
    }, 60_000);
  }
});
