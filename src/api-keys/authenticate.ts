import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppDeps, Principal } from '../deps.ts';
import { selectRows } from '../db/raw-rows.ts';

export const API_KEY_PREFIX = 'qzk_';
const API_KEY_SHAPE = /^qzk_[A-Za-z0-9_-]{43}$/;
/** last_used_at is refreshed at most this often, so a busy key costs no write per request. */
const LAST_USED_GRANULARITY_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The principal of a presented API key, or null when the key is malformed, unknown,
 * revoked, or its owner is deactivated (all answered as 401 invalid_token).
 */
export async function authenticateApiKey(deps: AppDeps, presented: string): Promise<Extract<Principal, { kind: 'api_key' }> | null> {
  if (!API_KEY_SHAPE.test(presented)) return null;
  const hash = hashApiKey(presented);
  // Raw SQL: this runs on every request made with a key (see selectRows).
  const [row] = await selectRows<{ id: string; user_id: string; key_hash: string; last_used_at: unknown; is_active: unknown }>(
    deps.db,
    `SELECT api_keys.id, api_keys.user_id, api_keys.key_hash, api_keys.last_used_at, users.is_active
     FROM api_keys JOIN users ON users.id = api_keys.user_id
     WHERE api_keys.key_hash = ? AND api_keys.revoked_at IS NULL`,
    [hash],
  );
  if (row === undefined || !Boolean(row.is_active)) return null;
  // The lookup went through an index on the hash; compare in constant time anyway, so the
  // decision never depends on a short-circuiting string comparison.
  if (!timingSafeEqual(Buffer.from(String(row.key_hash), 'hex'), Buffer.from(hash, 'hex'))) return null;

  const now = deps.clock.now();
  if (row.last_used_at === null || Number(row.last_used_at) <= now - LAST_USED_GRANULARITY_MS) {
    await deps.db('api_keys').where({ id: row.id }).update({ last_used_at: now });
  }
  const scopes = await selectRows<{ project_id: string }>(deps.db, 'SELECT project_id FROM api_key_projects WHERE api_key_id = ?', [row.id]);
  return {
    kind: 'api_key',
    userId: String(row.user_id),
    apiKeyId: String(row.id),
    projectIds: scopes.map((s) => s.project_id).sort(),
  };
}
