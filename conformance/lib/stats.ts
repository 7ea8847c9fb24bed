// Timing statistics for the enumeration checks (LOGIN-03, RESET-11): a rank test that does not
// assume normal latencies (Mann–Whitney U, normal approximation with tie correction) and a
// percentile-bootstrap interval for the difference of medians, from a seeded generator so a
// report can be reproduced.

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Two-sided p-value of the Mann–Whitney U test that `a` and `b` come from one distribution. */
export function mannWhitneyP(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j += 1;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) ranks[k] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const n1 = a.length;
  const n2 = b.length;
  const r1 = all.reduce((sum, x, i) => sum + (x.g === 0 ? ranks[i]! : 0), 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return Math.min(1, 2 * (1 - normalCdf(Math.max(0, z))));
}

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 on erf.
  const t = 1 / (1 + 0.3275911 * (z / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return 0.5 * (1 + y);
}

/** mulberry32: a small seeded generator (reproducible intervals). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 95 % percentile-bootstrap interval of median(b) − median(a). */
export function bootstrapMedianDiff(a: number[], b: number[], opts: { rounds?: number; seed?: number } = {}): { diff: number; low: number; high: number } {
  const next = rng(opts.seed ?? 1);
  const pick = (xs: number[]): number[] => xs.map(() => xs[Math.floor(next() * xs.length)]!);
  const diffs: number[] = [];
  for (let i = 0; i < (opts.rounds ?? 2000); i += 1) diffs.push(median(pick(b)) - median(pick(a)));
  diffs.sort((x, y) => x - y);
  return { diff: median(b) - median(a), low: diffs[Math.floor(diffs.length * 0.025)]!, high: diffs[Math.ceil(diffs.length * 0.975) - 1]! };
}

export interface TimingVerdict {
  diff: number;
  low: number;
  high: number;
  p: number;
  significant: boolean;
  /** Significant AND the whole interval beyond `largeMs`. */
  large: boolean;
  text: string;
}

/** Judges `slowerSuspect` against `baseline`: significant (p < alpha) and large (interval beyond largeMs). */
export function compareTimings(baseline: number[], slowerSuspect: number[], opts: { largeMs: number; alpha?: number; labels: [string, string] }): TimingVerdict {
  const p = mannWhitneyP(baseline, slowerSuspect);
  const { diff, low, high } = bootstrapMedianDiff(baseline, slowerSuspect);
  const significant = p < (opts.alpha ?? 0.01);
  const large = significant && (low > opts.largeMs || high < -opts.largeMs);
  const text = `${opts.labels[1]} − ${opts.labels[0]}: median difference ${diff.toFixed(1)} ms, 95 % CI [${low.toFixed(1)}, ${high.toFixed(1)}] ms, Mann–Whitney p = ${p.toPrecision(2)} (n = ${baseline.length} + ${slowerSuspect.length})`;
  return { diff, low, high, p, significant, large, text };
}
