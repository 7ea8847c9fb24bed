import { randomBytes } from 'node:crypto';

// `node --import tsx scripts/bench-password-policy.ts`: what the password blocklist costs
// (SECURITY.md 35). Prints the time to load the corpus (once per process, at first import) and
// the time of one weakPasswordReason call for typical and worst-case (128-character) passwords.
// Figures only; nothing is asserted (the machine is shared and noisy).

const heapBefore = process.memoryUsage().heapUsed;
const t0 = performance.now();
const { weakPasswordReason } = await import('../src/auth/password-policy.ts');
const { BREACHED_PASSWORDS } = await import('../src/auth/common-passwords.ts');
const loadMs = performance.now() - t0;
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

const cases: Record<string, () => string> = {
  'seed password (19 chars)': () => 'secure-password-123',
  'P@ssw0rd1234567 (refused)': () => 'P@ssw0rd1234567',
  'random 22 chars': () => randomBytes(16).toString('base64url').slice(0, 22),
  'random 128 chars (worst case)': () => randomBytes(96).toString('base64url').slice(0, 128),
  '128 × "a1" walk-free repeat': () => 'a1'.repeat(64),
};

console.log(`corpus: ${BREACHED_PASSWORDS.size} entries, loaded in ${loadMs.toFixed(0)} ms (heap +${heapMb.toFixed(0)} MB)`);
const email = 'jane.developer@example.com';
for (const [name, make] of Object.entries(cases)) {
  const inputs = Array.from({ length: 10_000 }, make);
  for (const pw of inputs.slice(0, 2000)) weakPasswordReason(pw, email); // warm-up
  const start = performance.now();
  for (const pw of inputs) weakPasswordReason(pw, email);
  const perCallUs = ((performance.now() - start) * 1000) / inputs.length;
  console.log(`${name.padEnd(32)} ${perCallUs.toFixed(1).padStart(8)} µs per check`);
}
