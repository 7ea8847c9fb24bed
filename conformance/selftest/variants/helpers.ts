import { jsonOf, type Mutation, type ProxiedRequest, type ProxiedResponse } from '../broken-proxy.ts';

// Shared vocabulary of the broken variants: each is the reference server behind a proxy that
// breaks one rule the way a real implementation might. `only` keeps each run short; `catches`
// lists the requirement ids of which AT LEAST ONE must be reported failed.

export interface BrokenVariant {
  name: string;
  /** What the broken deployment does wrong. */
  breaks: string;
  only: string[];
  /** Requirement ids of which at least one must FAIL (a MUST broken). */
  catches: string[];
  /** For a broken SHOULD: ids of which at least one must WARN (and the run still exit 0). */
  warns?: string[];
  /** A fresh mutation per run (variants keep state: tokens seen, codes used…). */
  mutation(env: VariantEnv): Mutation;
}

/** What a variant may need to know about the deployment behind the proxy. */
export interface VariantEnv {
  harnessUrl: string;
  harnessToken: string;
  /** The deployment's session-token key (variants that forge or re-sign tokens). */
  tokenSigningKey: string;
}

/** The deployment's clock, which the harness may have moved. */
export async function serverNow(env: VariantEnv): Promise<number> {
  const res = await fetch(`${env.harnessUrl}/clock`, { headers: { authorization: `Bearer ${env.harnessToken}` } });
  return Date.parse(((await res.json()) as { now: string }).now);
}

export const isOp = (req: ProxiedRequest, method: string, path: RegExp): boolean => req.method === method && path.test(req.path);
export const bearer = (req: ProxiedRequest): string | undefined => /^Bearer (.+)$/iu.exec(req.headers.authorization ?? '')?.[1];
export const problemCode = (res: ProxiedResponse): unknown => jsonOf(res)?.code;

export const LOGIN = /^\/auth\/login$/u;
export const REGISTER = /^\/auth\/register$/u;

/** Remembers the addresses registered through the proxy (to fake enumeration bugs). */
export function registeredAddresses(): { seen(req: ProxiedRequest, res: ProxiedResponse): void; has(email: string): boolean } {
  const emails = new Set<string>();
  return {
    seen(req, res) {
      if (isOp(req, 'POST', REGISTER) && res.status === 201) emails.add(String(jsonOf(req)?.email ?? '').toLowerCase());
    },
    has: (email) => emails.has(email.toLowerCase()),
  };
}
