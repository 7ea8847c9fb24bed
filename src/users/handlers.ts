import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandlers } from '../deps.ts';
import { principalOf } from '../auth/principal.ts';
import { toUser } from './mappers.ts';
import { findUserById, updateUser, type UserPatch, type UserRow } from './repository.ts';

type UpdateBody = operations['updateCurrentUser']['requestBody']['content']['application/json'];

/** Both accept a session or an API key (the key acts for its owner). */
export function createUserHandlers(deps: AppDeps): OperationHandlers {
  const load = async (userId: string): Promise<UserRow> => {
    const user = await findUserById(deps.db, userId);
    if (user === undefined) throw new Error('authenticated principal without a user row');
    return user;
  };

  return {
    async getCurrentUser(_c, ctx) {
      const userId = principalOf(ctx).userId;
      // Authentication already read this row in the same request (one query, src/db/fast-path/).
      const credential = ctx.state.credential;
      const user = credential?.kind === 'valid' && credential.user.id === userId ? credential.user : await load(userId);
      ctx.status = 200;
      ctx.body = toUser(user);
    },

    async updateCurrentUser(c, ctx) {
      const userId = principalOf(ctx).userId;
      const body = c.request.requestBody as UpdateBody;
      // Only the writable fields are copied; the schema already refused any other (422).
      const patch: UserPatch = {};
      if (body.full_name !== undefined) patch.full_name = body.full_name;
      if (body.company_name !== undefined) patch.company_name = body.company_name;
      if (body.phone !== undefined) patch.phone = body.phone;
      await updateUser(deps.db, userId, patch, deps.clock.now());
      ctx.status = 200;
      ctx.body = toUser(await load(userId));
    },
  };
}
