import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContract } from '../framework/contract.ts';
import { RELEASES_DIR } from '../framework/contract-version.ts';
import { missingFeatures } from '../framework/features.ts';
import { ipv4Spellings } from './client-identity.ts';
import { caseSpellings, identityClassChecks } from './identity-classes.ts';

// The spellings the IDENTITY checks send are one identity and distinct as text: a budget keyed
// by the text sees several, one keyed by the identity sees one.

describe('identity spellings', () => {
  it('spells one address in distinct letter cases that all fold to it', () => {
    const spellings = caseSpellings('qz-conf-ab12-3@example.com');
    expect(spellings).toEqual(['qz-conf-ab12-3@example.com', 'QZ-CONF-AB12-3@EXAMPLE.COM', 'Qz-conf-ab12-3@Example.com', 'qz-conf-ab12-3@EXAMPLE.COM', 'Qz-CoNf-Ab12-3@ExAmPlE.cOm']);
    expect(new Set(spellings).size).toBe(spellings.length);
    expect(new Set(spellings.map((s) => s.toLowerCase()))).toEqual(new Set(['qz-conf-ab12-3@example.com']));
  });

  it('spells one IPv4 address as the IPv4-mapped IPv6 forms, each naming it', () => {
    expect(ipv4Spellings([192, 0, 2], 7)).toEqual(['192.0.2.7', '::ffff:192.0.2.7', '::FFFF:C000:207', '0:0:0:0:0:ffff:c000:207', '0000:0000:0000:0000:0000:FFFF:192.0.2.7']);
    expect(ipv4Spellings([203, 0, 113], 200)[2]).toBe('::FFFF:CB00:71C8');
  });
});

describe('what each release says is one identity', () => {
  const missing = (version: string) =>
    Object.fromEntries(identityClassChecks.map((c) => [c.id, missingFeatures(c, loadContract(join(RELEASES_DIR, `${version}.json`)))]));

  it('letter case from 1.0.0 on (Email schema, "per normalised e-mail address"); the reset-mail budget from 2.0.0; the canonical client from 2.1.0', () => {
    expect(missing('1.0.0')).toEqual({
      'IDENTITY-01': [],
      'IDENTITY-02': ['x-rate-limit-recipient on requestPasswordReset', 'the reset-mail budget counts per normalised address (requestPasswordReset)'],
      'IDENTITY-03': ['a client IP is one canonical address, an IPv6 client its /64 (info "Rate limits")'],
      'IDENTITY-04': ['a client IP is one canonical address, an IPv6 client its /64 (info "Rate limits")'],
    });
    expect(missing('2.0.0')['IDENTITY-02']).toEqual([]);
    expect(Object.values(missing('2.1.0')).flat()).toEqual([]);
  });
});
