import type { ContractClient } from './client.ts';
import { send } from './transport.ts';
import type { Contract } from './types.ts';

// Before the run: is the base URL reachable, and does it serve THIS API (a clear usage error
// instead of 70 failed checks)? Then one login of an unknown address measures what a password
// hash costs the deployment: most of a run's time against a real deployment is its scrypt
// (a run with a client-ip header made ~360 hashing calls: 45–60 s against scrypt N=2^15 while
// the estimate, counting 100 ms per check, said 7.6 s).

export class PreflightError extends Error {}

export async function preflight(baseUrl: string, contract: Contract, extraHeaders: Record<string, string> = {}, timeoutMs = 10_000): Promise<void> {
  const health = contract.operations.find((op) => op.operationId === 'getHealth');
  const path = health?.path ?? '/';
  const probe = await send({ method: 'GET', url: `${baseUrl}${path}`, headers: { ...extraHeaders, accept: 'application/json' }, timeoutMs });
  if (probe.status === 0) throw new PreflightError(`cannot reach ${baseUrl}: ${probe.error ?? 'no answer'} (is the deployment running, is the URL right?)`);
  if (!health) return;
  let body: unknown;
  try {
    body = JSON.parse(probe.text);
  } catch {
    body = undefined;
  }
  const ok = (probe.status === 200 || probe.status === 503) && !!body && typeof body === 'object' && 'status' in body;
  if (!ok) {
    const type = probe.headers['content-type'] ?? 'no content type';
    throw new PreflightError(
      `${baseUrl} does not look like the Quazzar Space auth API: GET ${path} answered ${probe.status} (${type}), not the documented health answer ` +
        `(200 {"status":"ok"} or 503). Check --base-url (a path prefix? a gateway needing --header?).`,
    );
  }
}

/** What one password hash costs the deployment (ms): an unknown address's login minus a health call. */
export async function measureHashMs(client: ContractClient, rounds = 3): Promise<number> {
  // Three of each, the fastest one counts: the first answers of a fresh deployment are slow,
  // and a machine busy for a moment made two samples read 508 ms for a 134 ms hash. One when
  // every login of the run shares one address's budget (10 a minute).
  const samples: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const base = await client.call('getHealth');
    const login = await client.call('login', { body: { email: `qz-conf-preflight-${Date.now()}-${i}@example.com`, password: 'preflight-Password-123456' }, expect: 401 });
    if (login.status !== 401) return 0;
    samples.push(Math.max(0, login.durationMs - base.durationMs));
  }
  return Math.min(...samples);
}
