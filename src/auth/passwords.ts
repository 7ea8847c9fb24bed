import { randomBytes } from 'node:crypto';
import * as scryptNs from 'scrypt-kdf';
import { reportHashRun, scryptWork, withHashingSlot } from '../hashing/index.ts';

// scrypt-kdf's types declare named exports, but its runtime has only a default export (STACK.md).
const scrypt = (scryptNs as unknown as { default: typeof scryptNs }).default;

/**
 * scrypt with a fresh salt; logN/r/p travel inside the stored hash, so they can be raised later.
 * Both functions run under the process-wide hashing cap (src/hashing/): at most
 * HASH_CONCURRENCY at once, HASH_QUEUE_MAX waiting, then 503 `service_unavailable` with
 * Retry-After (thrown as a Problem before any work is done).
 */
export async function hashPassword(password: string, logN: number): Promise<string> {
  const key = await withHashingSlot(() => {
    reportHashRun({ kind: 'hash', logN, r: 8, p: 1 });
    return scrypt.kdf(password, { logN, r: 8, p: 1 });
  });
  return Buffer.from(key).toString('base64');
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  return withHashingSlot(async () => {
    const params = hashParams(storedHash);
    if (params !== undefined) reportHashRun({ kind: 'verify', ...params });
    try {
      return await scrypt.verify(Buffer.from(storedHash, 'base64'), password);
    } catch {
      return false; // a corrupt stored hash never lets anyone in
    }
  });
}

/**
 * A hash of a random password with the server's parameters. Login verifies unknown e-mail
 * addresses against it, so "no such user" costs the same time as "wrong password".
 */
export class DummyHash {
  #hash: Promise<string> | undefined;
  constructor(private readonly logN: number) {}

  get(): Promise<string> {
    // A refusal by the hashing cap (503) is not remembered: the next call tries again.
    this.#hash ??= hashPassword(randomBytes(24).toString('base64url'), this.logN).catch((err: unknown) => {
      this.#hash = undefined;
      throw err;
    });
    return this.#hash;
  }
}

/** The scrypt parameters stored in a hash (undefined for a corrupt one). */
export function hashParams(storedHash: string): { logN: number; r: number; p: number } | undefined {
  try {
    return scrypt.viewParams(Buffer.from(storedHash, 'base64'));
  } catch {
    return undefined;
  }
}

/** Whether a stored hash is weaker than what the server is configured to make (issue #10). */
export function needsRehash(storedHash: string, logN: number): boolean {
  const params = hashParams(storedHash);
  return params !== undefined && (params.logN < logN || params.r < 8 || params.p < 1);
}

/**
 * After a wrong password for `storedHash`: runs throw-away scrypt hashes until the work done
 * equals one hash at the configured `logN` (SEC 4, 32; issue 17 defect 7). A stored hash made
 * before SCRYPT_LOG_N was raised (or a corrupt one) would otherwise answer a wrong password
 * faster than an unknown address (one verify of the dummy hash at `logN`), telling the two
 * apart. The deficit 2^logN − work(stored) is paid exactly, as a sum of powers of two (one
 * hash per set bit), in one hashing slot; an up-to-date hash needs nothing.
 */
export async function padToConfiguredCost(storedHash: string, logN: number): Promise<void> {
  const params = hashParams(storedHash);
  let deficit = 2 ** logN - (params === undefined ? 0 : Math.floor(scryptWork(params)));
  if (deficit <= 0) return;
  await withHashingSlot(async () => {
    const password = randomBytes(24).toString('base64url');
    for (let k = logN; k >= 1 && deficit >= 2; k--) {
      if (deficit < 2 ** k) continue;
      reportHashRun({ kind: 'pad', logN: k, r: 8, p: 1 });
      await scrypt.kdf(password, { logN: k, r: 8, p: 1 });
      deficit -= 2 ** k;
    }
  });
}
