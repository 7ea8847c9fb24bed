import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// One way for every browser test to find and start Debian's Chromium (no browser download:
// playwright-core drives /usr/bin/chromium, which .ci/run installs).

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why a browser test is skipped on this machine; never in CI, where a missing Chromium fails. */
export const chromiumSkipReason = existsSync(CHROMIUM) || process.env.CI ? undefined : `${CHROMIUM} is missing (apt-get install chromium); CI fails here instead`;

/** Headless Chromium as the machine allows it: as root, no GPU, and no background connections
 * (this machine's closed network refuses them, many at a time). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
