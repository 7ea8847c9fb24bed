import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root (the folder holding package.json and generated/), found by walking up
 * from this module, so runtime files resolve the same from src/ (tsx, vitest) and from the
 * compiled dist/server/src/ (`npm start`).
 */
export const PROJECT_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'generated'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no project root (package.json beside generated/) above ${from}`);
  }
}

/** A path under the repository root. */
export const fromRoot = (...segments: string[]): string => path.join(PROJECT_ROOT, ...segments);
