import { systemClock } from '../clock.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { connectDatabase, migrateToLatest } from '../db/connect.ts';
import { runAdminCommand } from './commands.ts';

/** `npm run admin -- <command>`: operator commands on the server's own database. */
async function main(): Promise<number> {
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
  const db = connectDatabase(config.database);
  try {
    await migrateToLatest(db);
    return await runAdminCommand(process.argv.slice(2), db, systemClock, {
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
