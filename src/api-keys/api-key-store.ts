import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-secret.ts';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  projectIds: string[];
  createdAt: number;
  lastUsedAt: number | null;
}

const nullableNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Ids among `projectIds` that are not projects owned by the user. */
export async function findForeignProjectIds(db: Knex | Knex.Transaction, userId: string, projectIds: string[]): Promise<string[]> {
  if (projectIds.length === 0) return [];
  const owned = new Set(
    (await db('projects').where({ owner_id: userId }).whereIn('id', projectIds).pluck('id')) as string[],
  );
  return projectIds.filter((id) => !owned.has(id));
}

/** Inserts the key and its scope; returns the record and the plaintext key (shown once). */
export async function insertApiKey(
  trx: Knex.Transaction,
  userId: string,
  name: string,
  projectIds: string[],
  now: number,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = generateApiKey();
  const id = randomUUID();
  const prefix = displayPrefix(key);
  await trx('api_keys').insert({
    id, user_id: userId, name, prefix, key_hash: hashApiKey(key), created_at: now, last_used_at: null, revoked_at: null,
  });
  if (projectIds.length > 0) {
    await trx('api_key_projects').insert(projectIds.map((projectId) => ({ api_key_id: id, project_id: projectId })));
  }
  return { record: { id, name, prefix, projectIds, createdAt: now, lastUsedAt: null }, key };
}

/** The user's live (unrevoked) keys, oldest first, with their scopes. */
export async function listLiveApiKeys(db: Knex, userId: string): Promise<ApiKeyRecord[]> {
  const rows = await db('api_keys')
    .where({ user_id: userId })
    .whereNull('revoked_at')
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .select('id', 'name', 'prefix', 'created_at', 'last_used_at');
  if (rows.length === 0) return [];
  const scopes = await db('api_key_projects')
    .whereIn('api_key_id', rows.map((r) => r.id as string))
    .orderBy('project_id')
    .select('api_key_id', 'project_id');
  const byKey = new Map<string, string[]>();
  for (const s of scopes) byKey.set(s.api_key_id, [...(byKey.get(s.api_key_id) ?? []), s.project_id]);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    projectIds: byKey.get(r.id) ?? [],
    createdAt: Number(r.created_at),
    lastUsedAt: nullableNumber(r.last_used_at),
  }));
}

/** Revokes the user's live key; false when absent, already revoked or another user's. */
export async function revokeLiveApiKey(db: Knex, userId: string, keyId: string, now: number): Promise<boolean> {
  const updated = await db('api_keys').where({ id: keyId, user_id: userId }).whereNull('revoked_at').update({ revoked_at: now });
  return updated === 1;
}

/** Revokes every live key of the user (password reset, account deactivation); returns how many. */
export async function revokeAllApiKeys(db: Knex | Knex.Transaction, userId: string, now: number): Promise<number> {
  return db('api_keys').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: now });
}
