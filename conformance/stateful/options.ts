// `--stateful` options, declared here so framework/types.ts does not grow (same pattern as
// framework/options.ts).

declare module '../framework/types.ts' {
  interface RunOptions {
    /** `--stateful`: run model-based random sequences (conformance/stateful/) instead of the checks. */
    stateful?: boolean;
    /** `--stateful-runs N`: sequences to try (each on a fresh account; default 25). */
    statefulRuns?: number;
    /** `--stateful-steps N`: at most this many steps per sequence (default 20). */
    statefulSteps?: number;
  }
}

export const DEFAULT_STATEFUL_RUNS = 25;
export const DEFAULT_STATEFUL_STEPS = 20;
