import { createHash } from 'node:crypto';
import type { Mutation } from '../broken-proxy.ts';
import { CLIENT_IP_HEADER } from '../reference-server.ts';
import type { BrokenVariant } from './helpers.ts';

// Deployments that key per-IP budgets by the raw text of the address (issue 17 defect 2): one
// per /128, one per spelling. The reference server behind the proxy does it right, so the
// proxy gives each distinct text its own /64 (IPv6) or its own IPv4 address.

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Each distinct client-ip header value becomes an address of its own for the server. */
function perText(rewrite: (value: string) => string | undefined): Mutation {
  return {
    onRequest: (req) => {
      const value = req.headers[CLIENT_IP_HEADER];
      if (typeof value !== 'string') return;
      const other = rewrite(value.trim());
      if (other !== undefined) req.headers[CLIENT_IP_HEADER] = other;
    },
  };
}

export const clientIdentityVariants: BrokenVariant[] = [
  {
    name: 'per-IP budgets per IPv6 address (/128), not per /64',
    breaks: 'IPv6 /64 aggregation',
    only: ['RATE-09'],
    catches: ['RATE-09'],
    mutation: () =>
      perText((v) => {
        if (!v.includes(':')) return undefined;
        const d = digest(v);
        return `2001:db8:${d.readUInt16BE(0).toString(16)}:${d.readUInt16BE(2).toString(16)}::1`;
      }),
  },
  {
    name: 'per-IP budgets per spelling: IPv4-mapped IPv6 not folded into IPv4',
    breaks: 'canonical client address',
    only: ['RATE-10'],
    catches: ['RATE-10'],
    mutation: () =>
      perText((v) => {
        if (!v.includes(':')) return undefined;
        const d = digest(v);
        return `203.0.113.${d[0]! % 100}`;
      }),
  },
];
