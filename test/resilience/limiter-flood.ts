// Issue 17 (SEC 27): a flood of new keys against the memory store at its default caps, after an
// account was locked by 100 failed logins. Prints the cost per call, what it holds, what
// overflowed, and whether the lock held. Usage: node --import tsx test/resilience/limiter-flood.ts [keys per kind]
import { ShiftableClock } from '../../src/clock.ts';
import { MemoryRateLimiter } from '../../src/rate-limit/memory-store.ts';
import { budgetKey } from '../../src/rate-limit/limiter.ts';
const clock = new ShiftableClock(() => 1_700_000_000_000);
const store = new MemoryRateLimiter(clock);
const heap0 = process.memoryUsage().heapUsed;
const account = budgetKey('account', 'victim@example.com');
for (let i = 0; i < 100; i++) await store.consume('login-failures', account, 100, 3_600_000);
const n = Number(process.argv[2] ?? 300_000);
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  if (i % 50_000 === 0) clock.advance(1000);
  await store.consume('health', budgetKey('ip', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 120, 60_000);
  await store.consume('password-reset-recipient', budgetKey('account', `flood-${i}@example.com`), 3, 3_600_000);
}
const ms = performance.now() - t0;
const locked = !(await store.consume('login-failures', account, 100, 3_600_000)).allowed;
console.log(JSON.stringify({ calls: 2 * n, ms: Math.round(ms), usPerCall: +(ms * 1000 / (2 * n)).toFixed(2), size: store.size, overflowed: store.overflowed, evicted: store.evicted, locked, heapMB: Math.round((process.memoryUsage().heapUsed - heap0) / 1e6) }));
