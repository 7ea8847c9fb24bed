// A real server process for static-memory.test.ts: src/server.ts's app and connection caps,
// with the docs site served from STATIC_FIXTURE_DOCS_DIR (a generated page of the real size).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { applyConnectionCaps } from '../../../src/http/connection-caps.ts';
import { createLogger } from '../../../src/log.ts';

const config = loadConfig();
const built = await createApp({ config, docsDir: process.env.STATIC_FIXTURE_DOCS_DIR });
const server = createServer(built.app.callback());
server.keepAliveTimeout = 5_000;
applyConnectionCaps(server, config.connectionCaps, createLogger(config.logLevel));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
