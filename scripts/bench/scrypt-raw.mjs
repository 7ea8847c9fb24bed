// Baseline for the login scenario: raw scrypt-kdf verification throughput, nothing else.
// Usage: node scrypt-raw.mjs <concurrency> <seconds> <logN>; prints {"verified": n, "seconds": s}.
import scryptNs from 'scrypt-kdf';

const scrypt = scryptNs.default ?? scryptNs;
const [concurrency, seconds, logN] = process.argv.slice(2).map(Number);
const password = 'secure-password-123';
const hash = await scrypt.kdf(password, { logN, r: 8, p: 1 });
await scrypt.verify(hash, password); // warm-up
let verified = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() < deadline) {
    if (!(await scrypt.verify(hash, password))) throw new Error('verify failed');
    verified += 1;
  }
}));
process.stdout.write(JSON.stringify({ verified, seconds: (performance.now() - started) / 1000 }) + '\n');
