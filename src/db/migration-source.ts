import type { Knex } from 'knex';
import * as initial from './migrations/001-initial.ts';
import * as oneLiveResetToken from './migrations/002-one-live-reset-token.ts';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Imported statically, so migrations run the same under tsx, vitest and the admin CLI. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-one-live-reset-token': oneLiveResetToken,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = MIGRATIONS[name];
    if (migration === undefined) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};
