import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type BuiltApp } from '../../src/app.ts';
import { documentsHashingBusy, loadConfig } from '../../src/config.ts';
import { parseContract } from '../../src/contract.ts';

// The reference server, in-process on port 0, configured the way the self-tests need it:
// harness on, SMTP to the suite's sink port, fast scrypt, in-memory SQLite, and (unless told
// otherwise) a trusted client-ip header so the suite can simulate many clients.

export const CLIENT_IP_HEADER = 'x-conformance-client-ip';
/** Where reset links must point (never the Host the client sent). */
export const PUBLIC_URL = 'https://public.quazzar.test';

export interface RunningReference {
  url: string;
  harnessUrl: string;
  harnessToken: string;
  /** The server's JWT_SECRET, so the suite can mint correctly signed tokens with wrong claims. */
  tokenSigningKey: string;
  smtpPort: number;
  /** The trusted client-ip header, or undefined when the server trusts none. */
  clientIpHeader: string | undefined;
  close(): Promise<void>;
}

import { freePort } from './free-port.ts';

export { freePort };

/** `scryptLogN`: 10 (fast) unless told; 15 is the server's own default (production-like). */
export async function startReference(
  opts: {
    trustClientIpHeader?: boolean;
    scryptLogN?: number;
    /** Serve and enforce another bundled contract (a released snapshot, e.g. 1.0.0). */
    contractPath?: string;
    /** Self-tests only: plants a server-side fault in the built app before it listens
     * (conformance/selftest/variants/sequence-faults.ts). */
    prepare?: (built: BuiltApp) => void;
  } = {},
): Promise<RunningReference> {
  const trust = opts.trustClientIpHeader ?? true;
  const smtpPort = await freePort();
  const harnessToken = randomBytes(24).toString('base64url');
  const jwtSecret = randomBytes(48).toString('base64');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: 'sqlite::memory:',
    JWT_SECRET: jwtSecret,
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PUBLIC_URL,
    TRUST_PROXY: trust ? 'true' : 'false',
    CLIENT_IP_HEADER: CLIENT_IP_HEADER,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    SCRYPT_LOG_N: String(opts.scryptLogN ?? 10),
    LOG_LEVEL: 'silent',
    HARNESS_TOKEN: harnessToken,
    VALIDATE_RESPONSES: 'false',
    // A contract documenting no 503 on the hashing operations (1.0.0) is served without
    // shedding hashing load: requests wait for a slot instead.
    ...(opts.contractPath && !documentsHashingBusy(opts.contractPath) ? { HASH_QUEUE_MAX: '10000' } : {}),
  });
  const built = await createApp({ config, ...(opts.contractPath ? { contract: parseContract(JSON.parse(readFileSync(opts.contractPath, 'utf8')) as Record<string, unknown>) } : {}) });
  opts.prepare?.(built);
  const server: Server = built.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    harnessUrl: `${url}/__harness`,
    harnessToken,
    tokenSigningKey: jwtSecret,
    smtpPort,
    clientIpHeader: trust ? CLIENT_IP_HEADER : undefined,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await built.close();
    },
  };
}

