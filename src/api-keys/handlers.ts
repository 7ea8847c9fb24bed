import type { components, operations } from '../../generated/api.d.ts';
import { sessionOf } from '../auth/principal.ts';
import { requireRecentAuthentication } from '../auth/reauthenticate.ts';
import type { AppDeps, OperationHandlers } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { enforceQuota } from '../quotas/quota.ts';
import { findForeignProjectIds, insertApiKey, listLiveApiKeys, revokeLiveApiKey, type ApiKeyRecord } from './api-key-store.ts';

type CreateBody = operations['createApiKey']['requestBody']['content']['application/json'];
type ApiKey = components['schemas']['ApiKey'];
type ApiKeyCreated = components['schemas']['ApiKeyCreated'];
type ApiKeyList = components['schemas']['ApiKeyList'];

const iso = (ms: number): string => new Date(ms).toISOString();

function toApiKey(r: ApiKeyRecord): ApiKey {
  return {
    id: r.id, name: r.name, prefix: r.prefix, project_ids: r.projectIds,
    created_at: iso(r.createdAt), last_used_at: r.lastUsedAt === null ? null : iso(r.lastUsedAt),
  };
}

export function createApiKeysHandlers(deps: AppDeps): OperationHandlers {
  return {
    async createApiKey(c, ctx) {
      const { userId } = sessionOf(ctx);
      const { name, project_ids: projectIds = [], current_password: currentPassword } = c.request.requestBody as CreateBody;
      await requireRecentAuthentication(deps, ctx, 'createApiKey', currentPassword);
      const created = await deps.db.transaction(async (trx) => {
        await enforceQuota(deps.contract, 'createApiKey', trx('api_keys').where({ user_id: userId }).whereNull('revoked_at'), 'live API keys; revoke one first');
        const foreign = await findForeignProjectIds(trx, userId, projectIds);
        if (foreign.length > 0) {
          // "Not yours" and "does not exist" are one answer: no leak of other users' ids.
          throw new Problem(422, 'unknown_project', 'Some project_ids are not projects of yours.', {
            errors: foreign.map((id) => ({ pointer: `/project_ids/${projectIds.indexOf(id)}`, detail: 'is not one of your projects' })),
          });
        }
        return insertApiKey(trx, userId, name, projectIds, deps.clock.now());
      });
      const body: ApiKeyCreated = { ...toApiKey(created.record), key: created.key };
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 201;
      ctx.body = body;
    },

    async listApiKeys(_c, ctx) {
      const body: ApiKeyList = { api_keys: (await listLiveApiKeys(deps.db, sessionOf(ctx).userId)).map(toApiKey) };
      ctx.status = 200;
      ctx.body = body;
    },

    async revokeApiKey(c, ctx) {
      const keyId = String(c.request.params.keyId);
      if (!(await revokeLiveApiKey(deps.db, sessionOf(ctx).userId, keyId, deps.clock.now()))) {
        throw new Problem(404, 'api_key_not_found', 'No such API key.');
      }
      ctx.status = 204;
      ctx.body = null;
    },
  };
}
