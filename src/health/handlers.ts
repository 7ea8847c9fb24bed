import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandlers } from '../deps.ts';
import { unavailableProblem } from '../errors/unavailable.ts';
import { errorFields } from '../log.ts';

type Health = operations['getHealth']['responses'][200]['content']['application/json'];

export function createHealthHandlers(deps: AppDeps): OperationHandlers {
  return {
    async getHealth(_c, ctx) {
      try {
        const until = deps.faults.databaseUnavailableUntil;
        if (until !== null && deps.clock.now() < until) throw new Error('database unreachable (fault injected by the conformance harness)');
        await deps.db.raw('select 1');
      } catch (err) {
        deps.log.error('health check: database unreachable', errorFields(err));
        throw unavailableProblem(); // "The database cannot be reached right now; …"
      }
      const body: Health = { status: 'ok' };
      ctx.status = 200;
      ctx.body = body;
    },
  };
}
