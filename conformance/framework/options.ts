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

declare module './types.ts' {
  interface RunOptions {
    /** `--profile`: run only the checks of these feature profiles (framework/profiles.ts). */
    profiles?: string[];
  }
  interface RunResult {
    /** Profile × outcome table (framework/profiles.ts). */
    profiles?: import('./profiles.ts').ProfileRow[];
    /** Documented operations that answered the global 404, once each. */
    notImplemented?: import('./profiles.ts').NotImplementedEntry[];
  }
}
