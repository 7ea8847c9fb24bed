import type { Knex } from 'knex';

/**
 * Issue 17 (SEC 30): at most one unused password reset token per account, enforced by the
 * database — a partial unique index, the same statement on SQLite and PostgreSQL. An older
 * database may already hold several (concurrent requests on PostgreSQL left two or three):
 * only the newest unused token of each account is kept, so the index can be built.
 */
export const ONE_LIVE_RESET_TOKEN_INDEX = 'password_reset_tokens_one_unused_per_user';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    DELETE FROM password_reset_tokens
    WHERE used_at IS NULL
      AND EXISTS (
        SELECT 1 FROM password_reset_tokens newer
        WHERE newer.user_id = password_reset_tokens.user_id
          AND newer.used_at IS NULL
          AND (newer.created_at > password_reset_tokens.created_at
            OR (newer.created_at = password_reset_tokens.created_at AND newer.id > password_reset_tokens.id))
      )`);
  await knex.raw(`CREATE UNIQUE INDEX ${ONE_LIVE_RESET_TOKEN_INDEX} ON password_reset_tokens (user_id) WHERE used_at IS NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS ${ONE_LIVE_RESET_TOKEN_INDEX}`);
}
