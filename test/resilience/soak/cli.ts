import { describeSoak, runSoak } from './run-soak.ts';

// `npm run soak`: the full soak (100,000 requests from 50,000 addresses; SOAK_REQUESTS /
// SOAK_ADDRESSES to change). Exit 1 on a 5xx or when RSS grew over the second half of the run.
const requests = Number(process.env.SOAK_REQUESTS ?? 100_000);
const addresses = Number(process.env.SOAK_ADDRESSES ?? 50_000);
const result = await runSoak(requests, addresses);
process.stdout.write(describeSoak(result) + '\n');
const mid = result.rssMb[4]!;
const end = result.rssMb.at(-1)!;
const flat = end <= mid + 32;
process.stdout.write(`soak: RSS over the second half (every address already seen) ${mid} → ${end} MB: ${flat ? 'flat' : 'GROWING'}\n`);
process.exit(result.fiveXx === 0 && flat ? 0 : 1);
