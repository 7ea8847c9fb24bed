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

declare module './types.ts' {
  interface RunOptions {
    /** `--header K:V` (repeatable): sent with every request to the deployment (a gateway key). */
    headers?: Record<string, string>;
    /** `--insecure`: accept any TLS certificate. */
    insecure?: boolean;
    /** `--ca FILE`: PEM bundle of extra trusted certificate authorities (its content). */
    ca?: string;
    /** `--fail-fast`: stop starting checks after the first MUST failure. */
    failFast?: boolean;
    /** `--har FILE`: every exchange as HTTP Archive 1.2, secrets masked. */
    harPath?: string;
    /** `--dry-run`: print the plan (checks, skips, estimate) and send nothing. */
    dryRun?: boolean;
  }
}

declare module './types.ts' {
  interface RunOptions {
    /** `--strict`: a PARTIAL check (part of its requirement not verified) fails the exit status. */
    strict?: boolean;
  }
  interface CheckContext {
    /**
     * Part of the requirement could not be verified here (no harness clock, one variant of
     * several, …): with no failure, the check ends PARTIAL with a "not verified: …" list
     * instead of PASS.
     */
    partial(what: string): void;
  }
  interface CheckResult {
    /** What a PARTIAL check could not verify. */
    notVerified?: string[];
  }
}

declare module './types.ts' {
  interface RunOptions {
    /** `--seed`: the generative checks' seed (printed in every report; default random). */
    seed?: number;
    /** `--max-examples`: generated requests per operation and check (default 8). */
    maxExamples?: number;
  }
  interface RunResult {
    /** The generative checks' seed: pass it as --seed to replay them. */
    seed?: number;
  }
}

declare module './types.ts' {
  interface RunOptions {
    /**
     * `--token-signing-key-file FILE` (or env QUAZZAR_TOKEN_SIGNING_KEY): the deployment's HS256
     * session-token key (UTF-8), for a test deployment only. With it, SESSIONS-08 mints
     * correctly signed tokens with a wrong `iss`/`aud`/`typ` and checks they are refused.
     */
    tokenSigningKey?: string;
  }
}

declare module './types.ts' {
  interface CheckContext {
    /**
     * A finding too small to fail the requirement but worth a warning (a significant timing
     * difference under the check's threshold): with no failure, a MUST check ends WARN (exit 0)
     * with this as its reason; a failure still wins.
     */
    warn(message: string, exchange?: Exchange): void;
    /** A measurement the check judged by (a timing difference and its interval): kept in the
     * result (report.json) for pass and fail alike. */
    measured(measurement: Measurement): void;
  }
  interface CheckResult {
    /** What a WARN outcome of a MUST check warned about (`ctx.warn`). */
    warnings?: string[];
    /** What the check measured (`ctx.measured`). */
    measurement?: Measurement;
  }
}

/** A timing comparison (conformance/lib/timing-sample.ts): `suspect` − `baseline`. */
export interface Measurement {
  kind: 'timing';
  labels: [baseline: string, suspect: string];
  /** Median difference (ms) and its 95 % bootstrap interval. */
  diffMs: number;
  lowMs: number;
  highMs: number;
  /** Two-sided Mann–Whitney p. */
  p: number;
  alpha: number;
  /** A difference whose whole interval is beyond this (and significant) fails. */
  largeMs: number;
  /** Valid samples per arm, and the samples discarded because they did not take the timed path. */
  n: [baseline: number, suspect: number];
  discarded: string[];
  verdict: 'pass' | 'warn' | 'fail' | 'not judged';
  text: string;
}
