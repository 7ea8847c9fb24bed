import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { applyConnectionCaps } from './http/connection-caps.ts';
import { createLogger, errorFields } from './log.ts';
import { startPurgeJob } from './purge/job.ts';
import { causeOf, checkDependencies, StartupError } from './startup/check-dependencies.ts';

/**
 * `npm start`: validate the configuration, reach every dependency (bounded wait), build the
 * app, listen, stop cleanly on a signal. Every failure to start is one line on stderr and exit 1.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee "Configuration" in README.md.\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  for (const warning of config.warnings) {
    process.stderr.write(`\n*** WARNING: ${warning}\n\n`);
    log.warn('configuration', { warning });
  }
  let notes: string[];
  try {
    notes = await checkDependencies(config);
  } catch (err) {
    if (err instanceof StartupError) fail(err.message);
    throw err;
  }
  for (const warning of notes) {
    process.stderr.write(`\n*** WARNING: ${warning}\n\n`);
    log.warn('dependency', { warning });
  }
  const built = await createApp({ config });
  const purge = startPurgeJob(built.deps, config.purgeIntervalSeconds);
  const server = createServer(built.app.callback());
  server.keepAliveTimeout = 5_000;
  server.once('error', (err: NodeJS.ErrnoException) => {
    const where = `${config.host}`;
    const message =
      err.code === 'EADDRINUSE' ? `port ${config.port} is in use on ${where} (set PORT=… to a free port, or stop the process that holds it)`
      : err.code === 'EACCES' ? `port ${config.port} on ${where} needs privileges this process does not have (set PORT=… to a port above 1023)`
      : err.code === 'EADDRNOTAVAIL' ? `HOST=${config.host} is not an address of this machine (set HOST=… to one of its addresses, 0.0.0.0 or 127.0.0.1)`
      : `cannot listen on ${where}:${config.port}: ${causeOf(err)}`;
    void purge.stop().then(() => built.close()).catch(() => {}).finally(() => fail(message));
  });
  // Issue 17 (SEC 29): MAX_CONNECTIONS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, SLOW_READER_*.
  applyConnectionCaps(server, config.connectionCaps, log);
  server.listen(config.port, config.host, () => {
    const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const port = (server.address() as AddressInfo).port;
    log.info('listening', { url: `http://${shown}:${port}`, publicUrl: config.publicUrl, docs: `${config.publicUrl}/docs`, ...(config.dashboard ? { dashboard: `${config.publicUrl}/dashboard/` } : {}), database: config.database.client });
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    // Stop accepting, let requests in flight finish, close idle keep-alive sockets, then the database.
    server.close(() => {
      purge.stop().then(() => built.close()).then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error('shutdown failed', errorFields(err));
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
    setTimeout(() => {
      log.warn('forced exit after 10 s');
      process.exit(1);
    }, 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** One line on stderr, exit 1. */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

main().catch((err: unknown) => {
  // A system or database error (it has a code) is a cause, not a bug: one line. Anything else
  // is a bug, and its stack is what a developer needs.
  const coded = typeof (err as { code?: unknown } | null)?.code === 'string';
  process.stderr.write(`failed to start: ${coded || !(err instanceof Error) ? causeOf(err) : err.stack ?? err.message}\n`);
  process.exit(1);
});
