import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DevSecrets {
  jwtSecret: string;
  dataEncryptionKey: string;
}

export const DEV_SECRETS_PATH = 'data/secrets.json';

/**
 * Development only (never with NODE_ENV=production): secrets generated once and kept in a
 * 0600 file, so tokens and encrypted TOTP secrets survive a restart on a laptop.
 */
export function loadDevSecrets(path = DEV_SECRETS_PATH): DevSecrets {
  if (existsSync(path)) {
    // Issue #10: a secrets file others can read is as good as published.
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`${path} is readable by other users (mode ${mode.toString(8)}): run \`chmod 600 ${path}\` (or delete it to generate new development secrets)`);
    }
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<DevSecrets>;
    if (typeof parsed.jwtSecret === 'string' && typeof parsed.dataEncryptionKey === 'string') {
      return { jwtSecret: parsed.jwtSecret, dataEncryptionKey: parsed.dataEncryptionKey };
    }
    throw new Error(`${path} is not a valid secrets file: delete it to generate new development secrets`);
  }
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    dataEncryptionKey: randomBytes(32).toString('hex'),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return secrets;
}
