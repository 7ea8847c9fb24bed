import type { CheckContext, Exchange, Session } from '../framework/types.ts';

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  exchange: Exchange;
}

/** Creates a project with a session; ends the check unless it answers 201 with an id. */
export async function createProject(ctx: CheckContext, session: Session, name = 'conformance project'): Promise<string> {
  const ex = await ctx.call('createProject', { token: session.token, body: { name } });
  ctx.expectStatus(ex, 201, 'createProject with a session');
  ctx.require(typeof ex.body?.id === 'string', 'createProject returned no id', ex);
  return ex.body.id as string;
}

/**
 * Creates an API key (ends the check unless 201 with the secret) and registers its revocation
 * as cleanup (a 404 there means a check already revoked it).
 */
export async function createKey(ctx: CheckContext, session: Session, projectIds?: string[], name = 'conformance key'): Promise<CreatedKey> {
  const body: Record<string, unknown> = { name };
  if (projectIds) body.project_ids = projectIds;
  let ex = await ctx.call('createApiKey', { token: session.token, body });
  // A session older than x-recent-authentication (the run's shared one, in a run that paces
  // itself for many minutes) proves it again with the account's password, as documented.
  if (ex.status === 403 && ex.body?.code === 'reauthentication_required') {
    ex = await ctx.call('createApiKey', { token: session.token, body: { ...body, current_password: session.account.password } });
  }
  ctx.expectStatus(ex, 201, 'createApiKey with a session');
  ctx.require(typeof ex.body?.key === 'string' && typeof ex.body?.id === 'string', 'createApiKey returned no key or id', ex);
  const id = ex.body.id as string;
  ctx.defer(`revoke API key ${id}`, async () => {
    const revoked = await ctx.call('revokeApiKey', { token: session.token, params: { keyId: id } });
    // 401: the session is gone, and with it the key (deactivation or a reset revokes both).
    if (revoked.status !== 204 && revoked.status !== 404 && revoked.status !== 401) throw new Error(`revokeApiKey answered ${revoked.status}`);
  });
  return { id, key: ex.body.key as string, prefix: String(ex.body.prefix ?? ''), exchange: ex };
}
