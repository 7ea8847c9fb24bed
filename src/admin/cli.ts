import { systemClock } from '../clock.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { connectDatabase, migrateToLatest } from '../db/connect.ts';
import { checkPostgres, StartupError } from '../startup/check-dependencies.ts';
import { ADMIN_USAGE, isHelp, missingDatabase, runAdminCommand } from './commands.ts';

/** `npm run admin -- <command>`: operator commands on the server's own database. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (isHelp(args[0])) {
    process.stdout.write(ADMIN_USAGE + '\n');
    return args[0] === undefined ? 1 : 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const missing = missingDatabase(config.database);
  if (missing !== undefined) {
    process.stderr.write(missing + '\n');
    return 1;
  }
  if (config.database.client === 'pg') {
    try {
      await checkPostgres(config.database.connectionString, config.startupTimeoutSeconds * 1000);
    } catch (err) {
      if (!(err instanceof StartupError)) throw err;
      process.stderr.write(err.message + '\n');
      return 1;
    }
  }
  const db = connectDatabase(config.database);
  try {
    await migrateToLatest(db);
    return await runAdminCommand(args, db, systemClock, {
      out: (line) => process.stdout.write(line + '\n'),
      err: (line) => process.stderr.write(line + '\n'),
    }, { scryptLogN: config.scryptLogN });
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`admin command failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
