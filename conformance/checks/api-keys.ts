import { randomUUID } from 'node:crypto';
import type { CheckContext, CheckDef, ContractOperation } from '../framework/types.ts';
import { createKey, createProject } from '../lib/key-flow.ts';
import { expectProblem, expectStatusSoft, retryAfterSeconds } from '../lib/problems.ts';

// API keys (SECURITY.md 12, 20–22). Keys are created by a session, used as Bearer
// credentials, and must be powerless over credentials and outside their project scope.

const area = 'api-keys';
const API_KEY = /^qzk_[A-Za-z0-9_-]{43}$/u;

const shownOnce: CheckDef = {
  id: 'KEYS-01',
  area,
  level: 'MUST',
  title: 'An API key is shown once at creation (qzk_ + 256-bit secret, recognisable prefix), works as a Bearer credential, and is never listed (SEC 20)',
  cost: {}, // the run's shared account
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared(); // keys and projects only add to it
    const created = await createKey(ctx, session);
    ctx.expect(API_KEY.test(created.key), `the key must match ^qzk_[A-Za-z0-9_-]{43}$ (got ${created.key.length} characters starting ${created.key.slice(0, 4)})`, created.exchange);
    ctx.expect(
      created.prefix.length >= 4 && created.prefix.length < created.key.length && created.key.startsWith(created.prefix),
      `prefix must be the start of the key and shorter than it (prefix ${created.prefix.length} characters)`,
      created.exchange,
    );
    const second = await createKey(ctx, session, undefined, 'second key');
    ctx.expect(second.key !== created.key && second.prefix !== created.prefix, 'two keys share their secret or prefix: keys must be random', second.exchange);
    const list = await ctx.call('listApiKeys', { token: session.token });
    ctx.expectStatus(list, 200);
    const listed = Array.isArray(list.body?.api_keys) ? (list.body.api_keys as Array<Record<string, unknown>>) : [];
    const entry = listed.find((k) => k.id === created.id);
    ctx.expect(entry, 'the new key is missing from the list', list);
    ctx.expect(!list.text.includes(created.key.slice(12)), 'the list reveals the secret part of the key', list);
    ctx.expect(entry === undefined || !('key' in entry), 'a listed key carries a "key" field', list);
    ctx.expect(entry === undefined || entry.prefix === created.prefix, 'the listed prefix differs from the one shown at creation', list);

    const me = await ctx.call('getCurrentUser', { token: created.key });
    if (expectStatusSoft(ctx, me, 200, 'GET /users/me with the API key')) {
      ctx.expect(me.body?.id === session.account.id, 'the key authenticates as another user', me);
      ctx.expect(!me.text.includes(created.key), 'the profile echoes the key', me);
    }
  },
};

const scope: CheckDef = {
  id: 'KEYS-02',
  area,
  level: 'MUST',
  title: 'A key scoped to a project reads it but gets 403 insufficient_scope (with WWW-Authenticate error="insufficient_scope") on another project, and lists only its projects (SEC 12)',
  cost: {}, // the run's shared account
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared(); // keys and projects only add to it
    const inScope = await createProject(ctx, session, 'in scope');
    const outOfScope = await createProject(ctx, session, 'out of scope');
    const key = await createKey(ctx, session, [inScope]);
    ctx.expect(
      Array.isArray(key.exchange.body?.project_ids) && key.exchange.body.project_ids.length === 1 && key.exchange.body.project_ids[0] === inScope,
      'the created key does not report its project_ids',
      key.exchange,
    );
    const ok = await ctx.call('getProject', { token: key.key, params: { projectId: inScope } });
    expectStatusSoft(ctx, ok, 200, 'the key on its own project');
    const denied = await ctx.call('getProject', { token: key.key, params: { projectId: outOfScope } });
    if (expectProblem(ctx, denied, 403, 'insufficient_scope', 'the key on a project of the same user outside its scope')) {
      const challenge = denied.headers['www-authenticate'] ?? '';
      ctx.expect(/^Bearer\b/iu.test(challenge) && /error="insufficient_scope"/u.test(challenge), `WWW-Authenticate must be Bearer with error="insufficient_scope", got ${JSON.stringify(challenge)}`, denied);
    }
    const list = await ctx.call('listProjects', { token: key.key });
    if (expectStatusSoft(ctx, list, 200, 'listProjects with the scoped key')) {
      const ids = Array.isArray(list.body?.projects) ? (list.body.projects as Array<{ id: string }>).map((p) => p.id) : [];
      ctx.expect(ids.includes(inScope) && !ids.includes(outOfScope), `the scoped key must list exactly its project (listed ${ids.length})`, list);
    }
    const session2 = await ctx.call('getProject', { token: session.token, params: { projectId: outOfScope } });
    expectStatusSoft(ctx, session2, 200, 'the session on the same project');

    // A key scoped to no project reads the profile but no project.
    const bare = await createKey(ctx, session, [], 'no projects');
    expectStatusSoft(ctx, await ctx.call('getCurrentUser', { token: bare.key }), 200, 'a key with no projects on GET /users/me');
    const bareProject = await ctx.call('getProject', { token: bare.key, params: { projectId: inScope } });
    expectProblem(ctx, bareProject, 403, 'insufficient_scope', 'a key with no projects on a project of its user');
    const bareList = await ctx.call('listProjects', { token: bare.key });
    if (expectStatusSoft(ctx, bareList, 200, 'listProjects with a key with no projects')) {
      ctx.expect(Array.isArray(bareList.body?.projects) && bareList.body.projects.length === 0, 'a key with no projects lists projects', bareList);
    }
    const unknown = await ctx.call('createApiKey', { token: session.token, body: { name: 'unknown scope', project_ids: [randomUUID()] } });
    expectProblem(ctx, unknown, 422, 'unknown_project', 'createApiKey scoped to a project id that does not exist');
  },
};

const revocation: CheckDef = {
  id: 'KEYS-03',
  area,
  level: 'MUST',
  title: 'Revoking a key takes effect at once: 204, then the key gets 401 invalid_token, is no longer listed, and a second revoke is 404 (SEC 21)',
  cost: {}, // the run's shared account
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared(); // keys and projects only add to it
    const key = await createKey(ctx, session);
    const before = await ctx.call('getCurrentUser', { token: key.key });
    expectStatusSoft(ctx, before, 200, 'the key before revocation');
    const revoke = await ctx.call('revokeApiKey', { token: session.token, params: { keyId: key.id } });
    ctx.expectStatus(revoke, 204, 'revokeApiKey');
    const after = await ctx.call('getCurrentUser', { token: key.key, expect: 401 });
    expectProblem(ctx, after, 401, 'invalid_token', 'the key right after revocation');
    const list = await ctx.call('listApiKeys', { token: session.token });
    ctx.expect(!list.text.includes(key.id), 'a revoked key is still listed', list);
    const again = await ctx.call('revokeApiKey', { token: session.token, params: { keyId: key.id } });
    expectProblem(ctx, again, 404, 'api_key_not_found', 'revoking the same key again');
  },
};

/** A request body that satisfies each session-only operation, so only the credential is wrong. */
function plausibleBody(op: ContractOperation, ctx: CheckContext): unknown {
  switch (op.operationId) {
    case 'changePassword':
      return { current_password: ctx.accounts.newPassword(), new_password: ctx.accounts.newPassword() };
    case 'verifyTotp':
    case 'disableTotp':
      return { code: '123456' };
    case 'createApiKey':
    case 'createProject':
      return { name: 'made with an API key' };
    default:
      return op.requestSchema ? {} : undefined;
  }
}

const noCredentialManagement: CheckDef = {
  id: 'KEYS-04',
  area,
  level: 'MUST',
  title: 'An API key cannot log out, manage TOTP, keys, the password or projects: every session-only operation answers 403 session_required (SEC 22)',
  cost: {}, // the run's shared account
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared(); // keys and projects only add to it
    const projectId = await createProject(ctx, session);
    const key = await createKey(ctx, session, [projectId]);
    // From the contract: operations whose only security alternative is the session scheme.
    const sessionOnly = ctx.contract.operations.filter(
      (op) => op.security.length > 0 && op.security.every((alt) => alt.length === 1 && alt[0] === 'session'),
    );
    ctx.require(sessionOnly.length > 0, 'the contract names no session-only operation');
    for (const op of sessionOnly) {
      const params: Record<string, string> = {};
      for (const name of op.path.match(/\{([^}]+)\}/gu) ?? []) {
        const param = name.slice(1, -1);
        params[param] = param === 'keyId' ? key.id : projectId;
      }
      const body = plausibleBody(op, ctx);
      const ex = await ctx.call(op.operationId, { token: key.key, params, ...(body === undefined ? {} : { body }) });
      expectProblem(ctx, ex, 403, 'session_required', `${op.operationId} with an API key`);
    }
    const still = await ctx.call('getCurrentUser', { token: session.token });
    expectStatusSoft(ctx, still, 200, 'the session after the key tried to log out');
    const keyStill = await ctx.call('getCurrentUser', { token: key.key });
    expectStatusSoft(ctx, keyStill, 200, 'the key after it tried to revoke itself');
  },
};

const deactivation: CheckDef = {
  id: 'KEYS-05',
  area,
  level: 'MUST',
  title: 'Deactivating the account refuses its API keys at once (401 invalid_token) (SEC 21)',
  needs: ['harness'],
  cost: { register: 1, login: 1 },
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.login(await ctx.accounts.create());
    const key = await createKey(ctx, session);
    expectStatusSoft(ctx, await ctx.call('getCurrentUser', { token: key.key }), 200, 'the key while the account is active');
    await ctx.harness!.deactivateAccount(session.account.email);
    try {
      const after = await ctx.call('getCurrentUser', { token: key.key, expect: 401 });
      expectProblem(ctx, after, 401, 'invalid_token', 'the key of a deactivated account');
    } finally {
      await ctx.harness!.activateAccount(session.account.email);
    }
  },
};

const perKeyBudget: CheckDef = {
  id: 'KEYS-06',
  area,
  level: 'MUST',
  title: 'Each API key has its own `authenticated` budget: one key driven to 429 (with Retry-After) leaves another key and the session untouched (SEC 23)',
  cost: {}, // the run's shared account
  timeoutMs: 120_000,
  async run(ctx: CheckContext) {
    const policy = ctx.contract.operation('getCurrentUser').rateLimit;
    if (!policy || policy.key !== 'token') ctx.skip('getCurrentUser has no token-keyed x-rate-limit in the contract');
    const session = await ctx.accounts.shared(); // keys and projects only add to it
    const spent = await createKey(ctx, session, undefined, 'spent key');
    const other = await createKey(ctx, session, undefined, 'other key');
    for (let i = 1; i <= policy.limit; i += 1) {
      const ex = await ctx.call('getCurrentUser', { token: spent.key, pace: false });
      ctx.require(ex.status === 200, `call ${i} of ${policy.limit} within the budget answered ${ex.status}`, ex);
    }
    const limited = await ctx.call('getCurrentUser', { token: spent.key, pace: false, expect: 429 });
    expectProblem(ctx, limited, 429, 'rate_limited', `call ${policy.limit + 1} with the same key`);
    const retry = retryAfterSeconds(limited);
    ctx.expect(retry !== undefined && retry <= policy.window_seconds, `Retry-After must be whole seconds in 1..${policy.window_seconds}, got ${String(limited.headers['retry-after'])}`, limited);
    expectStatusSoft(ctx, await ctx.call('getCurrentUser', { token: other.key }), 200, 'another key of the same user');
    expectStatusSoft(ctx, await ctx.call('getCurrentUser', { token: session.token }), 200, 'the session of the same user');
  },
};

const lastUsed: CheckDef = {
  id: 'KEYS-07',
  area,
  level: 'SHOULD',
  title: 'last_used_at is null until a key is used, then set (revocation can be judged from it)',
  cost: {}, // the run's shared account
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared(); // keys and projects only add to it
    const key = await createKey(ctx, session);
    ctx.expect(key.exchange.body?.last_used_at === null, 'a new key must have last_used_at null', key.exchange);
    await ctx.call('getCurrentUser', { token: key.key });
    const list = await ctx.call('listApiKeys', { token: session.token });
    const entry = (list.body?.api_keys as Array<Record<string, unknown>> | undefined)?.find((k) => k.id === key.id);
    ctx.expect(typeof entry?.last_used_at === 'string', 'last_used_at must be set after the key was used', list);
  },
};

export const apiKeysChecks: CheckDef[] = [shownOnce, scope, revocation, noCredentialManagement, deactivation, perKeyBudget, lastUsed];
export default apiKeysChecks;
