import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppDeps, Principal } from '../deps.ts';
import { fastPathOf } from '../db/fast-path/index.ts';
import { profileFromDb, type ProfileRow } from '../users/repository.ts';

export const API_KEY_PREFIX = 'qzk_';
const API_KEY_SHAPE = /^qzk_[A-Za-z0-9_-]{43}$/;
/** last_used_at is refreshed at most this often, so a busy key costs no write per request. */
const LAST_USED_GRANULARITY_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The principal (and owner row) of a presented API key, or null when the key is malformed,
 * unknown, revoked, or its owner is deactivated (all answered as 401 invalid_token).
 * One query (key, owner and scope together; src/db/fast-path/) per request.
 */
export async function authenticateApiKey(
  deps: AppDeps,
  presented: string,
): Promise<{ principal: Extract<Principal, { kind: 'api_key' }>; user: ProfileRow } | null> {
  if (!API_KEY_SHAPE.test(presented)) return null;
  const hash = hashApiKey(presented);
  const row = await fastPathOf(deps.db, deps.config.database).apiKeyUser(hash);
  const user = profileFromDb(row);
  if (row === undefined || user === undefined || !user.is_active) return null;
  // The lookup went through an index on the hash; compare in constant time anyway, so the
  // decision never depends on a short-circuiting string comparison.
  if (!timingSafeEqual(Buffer.from(String(row.ak_key_hash), 'hex'), Buffer.from(hash, 'hex'))) return null;

  const now = deps.clock.now();
  if (row.ak_last_used_at === null || Number(row.ak_last_used_at) <= now - LAST_USED_GRANULARITY_MS) {
    await deps.db('api_keys').where({ id: row.ak_id }).update({ last_used_at: now });
  }
  const projectIds = row.ak_project_ids === null || row.ak_project_ids === '' ? [] : String(row.ak_project_ids).split(',');
  return {
    principal: { kind: 'api_key', userId: user.id, apiKeyId: String(row.ak_id), projectIds: projectIds.sort() },
    user,
  };
}
