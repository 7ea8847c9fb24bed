// Issue 18: the dashboard build — three files (so a page load fits the static budget), nothing
// inline for the CSP to allow, nothing fetched from another origin, a size budget, and the
// staleness check `npm start` relies on.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, dashboardIsStale } from './build-dashboard.mjs';

/** Minified bytes of app.js at most (measured 30.7 KB with the client and openapi-fetch). */
const SCRIPT_BUDGET_BYTES = 48 * 1024;

let out: string;
let sizes: Record<string, number>;
beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'quazzar-dashboard-build-test-'));
  sizes = await buildDashboard(out);
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('dashboard build', () => {
  it('writes exactly index.html, app.js and app.css; the page addresses both by a digest of their bytes', () => {
    expect(readdirSync(out).sort()).toEqual(['app.css', 'app.js', 'index.html']);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    for (const name of ['app.js', 'app.css']) {
      const digest = createHash('sha256').update(readFileSync(path.join(out, name))).digest('base64url').slice(0, 16);
      expect(html).toContain(`${name}?v=${digest}`);
    }
  });

  it('has no inline script, inline style or style attribute, and no address of another origin', () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    const js = readFileSync(path.join(out, 'app.js'), 'utf8');
    expect(js).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write|localStorage|sessionStorage|document\.cookie/);
    for (const text of [html, js, readFileSync(path.join(out, 'app.css'), 'utf8')]) {
      // Only the XML namespaces browsers know by heart may appear as absolute URLs.
      const urls = (text.match(/https?:\/\/[^\s"'`)]+/g) ?? []).filter((u) => !u.startsWith('http://www.w3.org/'));
      expect(urls).toEqual([]);
    }
  });

  it(`keeps the script within ${SCRIPT_BUDGET_BYTES / 1024} KB`, () => {
    expect(sizes['app.js']).toBeLessThanOrEqual(SCRIPT_BUDGET_BYTES);
  });

  it('is fresh right after a build and stale without one', () => {
    expect(dashboardIsStale(out)).toBe(false);
    expect(dashboardIsStale(path.join(out, 'nothing-here'))).toBe(true);
  });
});
