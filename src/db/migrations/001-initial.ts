import type { Knex } from 'knex';

/**
 * The whole schema of DECISIONS.md §8 (every domain's tables, including part 2's).
 * Times are epoch milliseconds in bigInteger columns; ids are uuid v4 strings.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.string('id', 36).primary();
    t.string('email', 254).notNullable();
    t.string('email_normalized', 254).notNullable().unique('users_email_normalized_unique');
    t.string('password_hash', 255).notNullable();
    t.string('full_name', 200).notNullable();
    t.string('company_name', 200).nullable();
    t.string('phone', 40).nullable();
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('totp_enabled').notNullable().defaultTo(false);
    t.text('totp_secret_enc').nullable();
    t.text('totp_pending_secret_enc').nullable();
    t.bigInteger('totp_last_step').nullable();
    t.integer('totp_failed_count').notNullable().defaultTo(0);
    t.bigInteger('totp_locked_until').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('sessions', (t) => {
    t.string('id', 36).primary();
    t.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['user_id'], 'sessions_user_id_index');
  });

  await knex.schema.createTable('backup_codes', (t) => {
    t.string('id', 36).primary();
    t.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('code_hash', 64).notNullable();
    t.bigInteger('used_at').nullable();
    t.index(['user_id', 'code_hash'], 'backup_codes_user_code_index');
  });

  await knex.schema.createTable('password_reset_tokens', (t) => {
    t.string('id', 36).primary();
    t.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('token_hash', 64).notNullable().unique('password_reset_tokens_token_hash_unique');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('used_at').nullable();
    t.index(['user_id'], 'password_reset_tokens_user_id_index');
  });

  await knex.schema.createTable('projects', (t) => {
    t.string('id', 36).primary();
    t.string('owner_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('name', 100).notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['owner_id'], 'projects_owner_id_index');
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.string('id', 36).primary();
    t.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('name', 100).notNullable();
    t.string('prefix', 16).notNullable();
    t.string('key_hash', 64).notNullable().unique('api_keys_key_hash_unique');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').nullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['user_id'], 'api_keys_user_id_index');
  });

  await knex.schema.createTable('api_key_projects', (t) => {
    t.string('api_key_id', 36).notNullable().references('id').inTable('api_keys').onDelete('CASCADE');
    t.string('project_id', 36).notNullable().references('id').inTable('projects').onDelete('CASCADE');
    t.primary(['api_key_id', 'project_id']);
  });

  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 512).primary();
    t.bigInteger('window_start').notNullable();
    t.integer('count').notNullable();
    t.index(['window_start'], 'rate_limits_window_start_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['rate_limits', 'api_key_projects', 'api_keys', 'projects', 'password_reset_tokens', 'backup_codes', 'sessions', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
