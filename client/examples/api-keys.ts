import { createQuazzarClient, type QuazzarClient } from '../index.ts';

/** Creates an API key scoped to one project; the key is in this answer only. */
export async function createDeployKey(qz: QuazzarClient, projectId: string, askForPassword: () => Promise<string>): Promise<string> {
  let created = await qz.createApiKey({ name: 'deploy', project_ids: [projectId] });
  if (!created.ok && created.reauthenticationRequired) created = await created.retryWithPassword(await askForPassword());
  if (!created.ok) throw new Error(created.error.detail);
  return created.data.key;
}

/** In CI: the key is the credential, set once (an Authorization header, never in a URL). */
export async function projectName(baseUrl: string, apiKey: string, projectId: string): Promise<string> {
  const ci = createQuazzarClient({ baseUrl, credential: { apiKey } });
  const project = await ci.getProject(projectId);
  if (project.ok) return project.data.name;
  if (project.error.code === 'insufficient_scope') throw new Error(`this key may not read project ${projectId}`);
  throw new Error(`${project.error.code}: ${project.error.detail} (${project.rateLimit.remaining} calls left)`);
}
