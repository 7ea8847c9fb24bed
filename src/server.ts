import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { applyConnectionCaps } from './http/connection-caps.ts';
import { createLogger, errorFields } from './log.ts';
import { startPurgeJob } from './purge/job.ts';

/** `npm start`: validate the configuration, build the app, listen, stop cleanly on a signal. */
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
  const built = await createApp({ config });
  const purge = startPurgeJob(built.deps, config.purgeIntervalSeconds);
  const server = createServer(built.app.callback());
  server.keepAliveTimeout = 5_000;
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

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
