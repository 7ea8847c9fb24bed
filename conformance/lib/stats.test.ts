import { describe, expect, it } from 'vitest';
import { bootstrapMedianDiff, compareTimings, mannWhitneyP, median } from './stats.ts';

describe('timing statistics', () => {
  const base = [20, 22, 19, 25, 21, 23, 20, 24, 22, 21, 19, 23];
  it('finds no difference between samples of one distribution', () => {
    const other = [21, 20, 23, 22, 19, 24, 25, 20, 22, 21, 23, 19];
    expect(mannWhitneyP(base, other)).toBeGreaterThan(0.5);
    expect(compareTimings(base, other, { largeMs: 25, labels: ['a', 'b'] })).toMatchObject({ significant: false, large: false });
  });
  it('finds a significant and large shift, with an interval around it', () => {
    const slow = base.map((v) => v + 150);
    const v = compareTimings(base, slow, { largeMs: 25, labels: ['unknown', 'wrong'] });
    expect(v.p).toBeLessThan(0.001);
    expect(v).toMatchObject({ significant: true, large: true });
    expect(v.low).toBeGreaterThan(140);
    expect(v.high).toBeLessThan(160);
    expect(v.text).toMatch(/95 % CI/u);
  });
  it('calls a small significant shift significant but not large', () => {
    const slightly = base.map((v) => v + 8);
    expect(compareTimings(base, slightly, { largeMs: 25, labels: ['a', 'b'] })).toMatchObject({ significant: true, large: false });
  });
  it('medians and a reproducible bootstrap', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(bootstrapMedianDiff(base, base.map((v) => v * 2), { seed: 7 })).toEqual(bootstrapMedianDiff(base, base.map((v) => v * 2), { seed: 7 }));
  });
});
