import { expect } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

/** The problems loadConfig refuses `env` with (fails the test if it accepts it). */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
