import { randomUUID } from 'node:crypto';
import type { CheckContext, CheckDef } from '../framework/types.ts';
import { createKey, createProject } from '../lib/key-flow.ts';
import { expectProblem, expectStatusSoft } from '../lib/problems.ts';

// Cross-account access (OWASP API1 broken object level authorisation): another user's objects
// are answered exactly like absent ones (404, no existence leak), never served or changed.

const area = 'access';

async function twoUsers(ctx: CheckContext) {
  // Two accounts of the run, both only ever added to: the owner's objects are per check.
  const owner = await ctx.accounts.other();
  // The run's shared account plays the intruder: it only creates objects of its own.
  const intruder = await ctx.accounts.shared();
  return { owner, intruder };
}

/**
 * The parts of a problem body that must not tell "someone else's" from "absent"; the id the
 * request named may be quoted back (it differs between the two requests by construction).
 */
function problemShape(body: unknown, requestedId: string): string {
  const b = (body ?? {}) as Record<string, unknown>;
  return JSON.stringify([b.status, b.code, b.type, b.title, b.detail]).split(requestedId).join('{id}');
}

const otherProject: CheckDef = {
  id: 'ACCESS-01',
  area,
  level: 'MUST',
  title: "Another user's project answers 404 project_not_found, exactly like an absent one, and is never listed",
  cost: {}, // the run's two shared accounts (registered once)
  async run(ctx: CheckContext) {
    const { owner, intruder } = await twoUsers(ctx);
    const projectId = await createProject(ctx, owner, 'owner only');
    const theirs = await ctx.call('getProject', { token: intruder.token, params: { projectId } });
    expectProblem(ctx, theirs, 404, 'project_not_found', "GET another user's project");
    const absentId = randomUUID();
    const absent = await ctx.call('getProject', { token: intruder.token, params: { projectId: absentId } });
    expectProblem(ctx, absent, 404, 'project_not_found', 'GET a project id that does not exist');
    ctx.expect(problemShape(theirs.body, projectId) === problemShape(absent.body, absentId), "another user's project and an absent one are told apart by the answer", theirs);
    // The intruder's API key (scoped to a project of its own) must not tell them apart either.
    const ownProject = await createProject(ctx, intruder, 'intruder project');
    const key = await createKey(ctx, intruder, [ownProject]);
    const byKey = await ctx.call('getProject', { token: key.key, params: { projectId } });
    const absentByKey = await ctx.call('getProject', { token: key.key, params: { projectId: absentId } });
    ctx.expect(byKey.status === 403 || byKey.status === 404, `another user's project with an API key: expected 403 or 404, got ${byKey.status}`, byKey);
    ctx.expect(
      byKey.status === absentByKey.status && problemShape(byKey.body, projectId) === problemShape(absentByKey.body, absentId),
      `with an API key, another user's project (${byKey.status}) and an absent one (${absentByKey.status}) are told apart`,
      byKey,
    );
    const list = await ctx.call('listProjects', { token: intruder.token });
    if (expectStatusSoft(ctx, list, 200, 'listProjects of the other user')) {
      ctx.expect(!list.text.includes(projectId), "listProjects shows another user's project", list);
    }
    const mine = await ctx.call('getProject', { token: owner.token, params: { projectId } });
    expectStatusSoft(ctx, mine, 200, 'the owner reads the project');
  },
};

const otherKey: CheckDef = {
  id: 'ACCESS-02',
  area,
  level: 'MUST',
  title: "Another user's API key cannot be revoked (404 api_key_not_found, like an absent one) nor listed, and keeps working",
  cost: {}, // the run's two shared accounts (registered once)
  async run(ctx: CheckContext) {
    const { owner, intruder } = await twoUsers(ctx);
    const key = await createKey(ctx, owner);
    const revoke = await ctx.call('revokeApiKey', { token: intruder.token, params: { keyId: key.id } });
    expectProblem(ctx, revoke, 404, 'api_key_not_found', "revoking another user's key");
    const absentId = randomUUID();
    const absent = await ctx.call('revokeApiKey', { token: intruder.token, params: { keyId: absentId } });
    expectProblem(ctx, absent, 404, 'api_key_not_found', 'revoking a key id that does not exist');
    ctx.expect(problemShape(revoke.body, key.id) === problemShape(absent.body, absentId), "another user's key and an absent one are told apart by the answer", revoke);
    const list = await ctx.call('listApiKeys', { token: intruder.token });
    ctx.expect(!list.text.includes(key.id), "listApiKeys shows another user's key", list);
    const still = await ctx.call('getCurrentUser', { token: key.key });
    if (expectStatusSoft(ctx, still, 200, "the owner's key after the other user tried to revoke it")) {
      ctx.expect(still.body?.id === owner.account.id, 'the key authenticates as the wrong user', still);
    }
  },
};

const foreignScope: CheckDef = {
  id: 'ACCESS-03',
  area,
  level: 'MUST',
  title: "A key cannot be scoped to another user's project (422 unknown_project)",
  cost: {}, // the run's two shared accounts (registered once)
  async run(ctx: CheckContext) {
    const { owner, intruder } = await twoUsers(ctx);
    const projectId = await createProject(ctx, owner, 'owner only');
    const ex = await ctx.call('createApiKey', { token: intruder.token, body: { name: 'foreign scope', project_ids: [projectId] } });
    if (ex.status === 201 && typeof ex.body?.id === 'string') {
      const id = ex.body.id as string;
      ctx.defer(`revoke API key ${id}`, async () => void (await ctx.call('revokeApiKey', { token: intruder.token, params: { keyId: id } })));
      const leaked = await ctx.call('getProject', { token: ex.body.key as string, params: { projectId } });
      ctx.expect(leaked.status !== 200, "a key scoped to another user's project reads it", leaked);
    }
    expectProblem(ctx, ex, 422, 'unknown_project', "createApiKey scoped to another user's project");
  },
};

export const accessChecks: CheckDef[] = [otherProject, otherKey, foreignScope];
export default accessChecks;
