import type { components, operations } from '../../generated/api.d.ts';
import { principalOf, sessionOf } from '../auth/principal.ts';
import type { AppDeps, OperationHandlers } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { enforceQuota } from '../quotas/quota.ts';
import { findOwnedProject, insertProject, listOwnedProjects, type ProjectRecord } from './project-store.ts';

type CreateBody = operations['createProject']['requestBody']['content']['application/json'];
type Project = components['schemas']['Project'];
type ProjectList = components['schemas']['ProjectList'];

const toProject = (r: ProjectRecord): Project => ({ id: r.id, name: r.name, created_at: new Date(r.createdAt).toISOString() });

export function createProjectsHandlers(deps: AppDeps): OperationHandlers {
  return {
    async listProjects(_c, ctx) {
      const p = principalOf(ctx);
      // An API key sees only the projects it is scoped to.
      const projects = await listOwnedProjects(deps.db, p.userId, p.kind === 'api_key' ? p.projectIds : undefined);
      const body: ProjectList = { projects: projects.map(toProject) };
      ctx.status = 200;
      ctx.body = body;
    },

    async createProject(c, ctx) {
      const p = sessionOf(ctx);
      const { name } = c.request.requestBody as CreateBody;
      const project = await deps.db.transaction(async (trx) => {
        await enforceQuota(deps.contract, 'createProject', trx('projects').where({ owner_id: p.userId }), 'projects');
        return insertProject(trx, p.userId, name, deps.clock.now());
      });
      ctx.status = 201;
      ctx.body = toProject(project) satisfies Project;
    },

    async getProject(c, ctx) {
      const p = principalOf(ctx);
      const projectId = String(c.request.params.projectId);
      // Ownership first: someone else's project is 404 to everyone, keys included.
      const project = await findOwnedProject(deps.db, p.userId, projectId);
      if (project === undefined) throw new Problem(404, 'project_not_found', 'No such project.');
      if (p.kind === 'api_key' && !p.projectIds.includes(projectId)) {
        throw new Problem(403, 'insufficient_scope', 'This API key is not scoped to this project.', {
          headers: { 'WWW-Authenticate': 'Bearer realm="quazzar", error="insufficient_scope"' },
        });
      }
      ctx.status = 200;
      ctx.body = toProject(project);
    },
  };
}
