import type { RunOptions } from './types.ts';

// Run options added after the first edition, declared here (types.ts does not grow): module
// augmentation adds them to RunOptions as optional fields, so every caller keeps compiling.

declare module './types.ts' {
  interface RunOptions {
    /** Independent checks run this many at a time (only with a client-ip header). Default 1. */
    jobs?: number;
  }
}

export type ExtendedRunOptions = RunOptions;
