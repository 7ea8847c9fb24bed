import fc from 'fast-check';
import { expect } from 'vitest';
import { buildTestApp, newSession, type TestApp } from '../../helpers.ts';
import type { SchemaContext } from './arbitraries.ts';
import { describeRequest, operationsOf, requestArbitrary, send, type Credentials, type FuzzRequest } from './requests.ts';

/** Seed and size of a run: fixed by default (deterministic in CI), overridable from the environment. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261201);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

type Json = Record<string, any>;

interface Pool {
  token: string;
  apiKey: string;
  knownIds: string[];
  email: string;
}

/** A user with a session, a project and an API key scoped to it. */
async function freshPool(t: TestApp): Promise<Pool> {
  const { user, token } = await newSession(t);
  const project = await t.request('/projects', { token, json: { name: 'Fuzz project' } });
  const key = await t.request('/users/me/api-keys', { token, json: { name: 'fuzz key', project_ids: [project.body.id] } });
  if (project.status !== 201 || key.status !== 201) throw new Error(`fuzz setup failed: ${project.status} ${key.status}`);
  return { token, apiKey: key.body.key, knownIds: [project.body.id, key.body.id], email: user.email };
}

function resolver(document: Json): (node: unknown) => Json {
  return (node) => {
    let n = node as Json | undefined;
    for (let i = 0; i < 10 && n !== undefined && typeof n.$ref === 'string'; i++) {
      n = (n.$ref as string).slice(2).split('/').reduce<any>((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    }
    return n ?? {};
  };
}

/**
 * Thousands of contract-derived hostile requests against one in-process server: every
 * answer must be below 500 and valid against the contract (the app checks its own answers
 * with VALIDATE_RESPONSES and marks a mismatch), and the server must still work afterwards.
 */
export async function runFuzz(usePostgres: boolean): Promise<void> {
  // Budgets far above the fuzz's volume, so that requests reach validation and the handlers
  // (429 answers are still produced now and then by the per-account failed-login budget).
  const t = await buildTestApp({ usePostgres, env: { TRUST_PROXY: 'true', ...(process.env.FUZZ_SURVEY === undefined ? {} : { LOG_LEVEL: 'error' }) }, config: { rateLimitMultiplier: 10_000 } });
  const statuses = new Map<number, number>();
  let sent = 0;
  try {
    let pool = await freshPool(t);
    const first = pool;
    const creds: Credentials = { session: () => pool.token, apiKey: () => pool.apiKey };
    const document = t.deps.contract.document;
    const resolve = resolver(document);
    const ctx: SchemaContext = { resolve, knownStrings: [...first.knownIds, first.email] };
    const arb = requestArbitrary(ctx, operationsOf(document, resolve), t.deps.contract.bodyLimitBytes);

    const property = fc.asyncProperty(arb, async (r: FuzzRequest) => {
      const res = await send(t.baseUrl, r, creds);
      sent += 1;
      if (process.env.FUZZ_TRACE !== undefined) process.stdout.write(`TRACE ${res.status} ${describeRequest(r).slice(0, 400)}\n`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 || res.headers['x-contract-violation'] !== undefined) {
        const failure = `${res.status} for ${describeRequest(r)}\n  answer: ${res.text.slice(0, 600)}`;
        // FUZZ_SURVEY=1 (a developer's tool): list every failure instead of stopping at the first.
        if (process.env.FUZZ_SURVEY === undefined) throw new Error(failure);
        process.stdout.write(`FAIL ${failure}\n`);
      }
      // The fuzz may log its own session out, revoke its key or change state: start over with a new user.
      const broke = (r.auth === 'session' || r.auth === 'apiKey') && res.status === 401;
      const changed = res.status < 300 && ['logout', 'revokeApiKey', 'changePassword', 'verifyTotp', 'disableTotp'].includes(r.operationId);
      if (broke || changed) pool = await freshPool(t);
    });
    const started = Date.now();
    process.stdout.write(`fuzz (${usePostgres ? 'PostgreSQL' : 'SQLite'}): seed ${FUZZ_SEED}, ${FUZZ_RUNS} requests (FUZZ_SEED / FUZZ_RUNS to change)\n`);
    await fc.assert(property, { seed: FUZZ_SEED, numRuns: FUZZ_RUNS, endOnFailure: process.env.FUZZ_SHRINK === undefined });
    const summary = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
    process.stdout.write(`fuzz (${usePostgres ? 'PostgreSQL' : 'SQLite'}): ${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s, 5xx: 0; statuses ${summary}\n`);

    // Still healthy: the health probe answers 200 and a new account can register and log in.
    expect((await t.request('/health')).status).toBe(200);
    const after = await newSession(t);
    expect((await t.request('/users/me', { token: after.token })).status).toBe(200);
  } catch (err) {
    process.stdout.write(`fuzz failed after ${sent} requests; replay with FUZZ_SEED=${FUZZ_SEED} (FUZZ_SHRINK=1 to shrink)\n`);
    throw err;
  } finally {
    await t.close();
  }
}
