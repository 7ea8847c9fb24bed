// The CI guard (part of npm test): the contract the server, the suite and the docs use
// (generated/openapi.json) must not break clients of the latest released version
// (openapi/releases/<latest>.json) unless info.version's major was raised. Also: the release
// workflow (`npm run contract:release`) on a scratch releases folder, and CHANGELOG.md in step
// with the snapshots.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleContract, rootDir } from '../generate.ts';
import { bundleWorkingTree, readRelease, releasedVersions, RELEASES_DIR, serialize } from './bundle.ts';
import { diffContracts } from './diff.ts';
import { guardMessage, release, releasedPart, renderReleased, CHANGELOG } from './release.ts';
import { runGuard } from './guard.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are edited freely
type Json = Record<string, any>;
const generated = (): Json => JSON.parse(readFileSync(join(rootDir, 'generated/openapi.json'), 'utf8')) as Json;
const versions = releasedVersions();
const latest = versions[versions.length - 1]!;

describe('CI guard: no unannounced breaking change since the latest release', () => {
  it('keeps released versions in openapi/releases/ (at least 1.0.0)', () => {
    expect(versions).toContain('1.0.0');
  });

  it(`generated/openapi.json vs openapi/releases/${latest}.json`, () => {
    const message = guardMessage(latest, readRelease(latest), generated());
    // On failure this prints each breaking change and the fix (raise the major, release, or revert).
    expect(message, message).toBeUndefined();
  });

  it('fails an unannounced breaking edit, naming each change and the fix', () => {
    const edited = structuredClone(readRelease(latest)) as Json;
    const limit = edited.paths['/auth/login'].post['x-rate-limit'].limit as number;
    edited.paths['/auth/login'].post['x-rate-limit'].limit = limit - 1;
    edited.components.schemas.RegisterRequest.required.push('company_name');
    const message = guardMessage(latest, readRelease(latest), edited);
    expect(message).toContain('2 breaking change(s)');
    expect(message).toContain(`x-rate-limit.limit: limit lowered ${limit} → ${limit - 1} (POST /auth/login)`);
    expect(message).toContain('field `company_name` made required (POST /auth/register)');
    const major = Number(latest.split('.')[0]) + 1;
    expect(message).toContain(`raise info.version's major to ${major}.0.0`);
    expect(message).toContain('npm run contract:release');
    expect(message).toContain('or revert');
    // announced: the same edit with the major raised passes
    edited.info.version = `${major}.0.0`;
    expect(guardMessage(latest, readRelease(latest), edited)).toBeUndefined();
  });

  it('runs first, as npm test\'s pretest step, so that its message is all npm test prints on an unannounced breaking change', () => {
    const pkg = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['pretest']).toBe('node --import tsx scripts/contract-diff/guard.ts');
    expect(runGuard()).toEqual({ code: 0, message: `contract guard: no unannounced breaking change since release ${latest}` });
    const dir = mkdtempSync(join(tmpdir(), 'contract-guard-'));
    try {
      const edited = structuredClone(readRelease(latest)) as Json;
      edited.components.schemas.RegisterRequest.required.push('company_name');
      const file = join(dir, 'openapi.json');
      writeFileSync(file, serialize(edited));
      const outcome = runGuard({ contract: file });
      expect(outcome.code).toBe(1);
      expect(outcome.message.split('\n')[0]).toBe('npm test stopped before the tests: the contract guard failed (the other tests would fail on the same change).');
      expect(outcome.message).toContain('field `company_name` made required (POST /auth/register)');
      expect(outcome.message).toContain(`raise info.version's major to ${Number(latest.split('.')[0]) + 1}.0.0`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CHANGELOG.md lists the releases exactly as npm run contract:release writes them', () => {
    const text = readFileSync(CHANGELOG, 'utf8');
    expect(releasedPart(text), 'CHANGELOG.md is stale: run npm run contract:release -- --changelog').toBe(renderReleased());
  });
});

describe('released snapshots and npm run generate agree byte for byte', () => {
  it('diffContracts leaves both documents untouched (a release snapshots the bundle, not what the diff made of it)', () => {
    const before = readRelease('1.0.0');
    const after = generated();
    const [beforeText, afterText] = [serialize(before), serialize(after)];
    diffContracts(before, after);
    expect(serialize(before)).toBe(beforeText);
    expect(serialize(after)).toBe(afterText);
  });

  it('a release snapshots the bundle exactly as npm run generate writes it, path-level parameters included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'contract-snapshot-'));
    try {
      cpSync(join(rootDir, 'openapi'), join(dir, 'openapi'), { recursive: true });
      // the layout of openapi/ at 1.0.0: the id parameter on the path item, not in the operation
      const file = join(dir, 'openapi/paths/projects_{projectId}.yaml');
      const text = readFileSync(file, 'utf8');
      const block = /\n(?: {2}#[^\n]*\n)* {2}parameters:\n {4}- \$ref: \.\.\/components\/parameters\/ProjectId\.yaml\n/u;
      expect(text).toMatch(block);
      writeFileSync(file, `parameters:\n  - $ref: ../components/parameters/ProjectId.yaml\n${text.replace(block, '\n')}`);
      const root = join(dir, 'openapi/openapi.yaml');
      const major = `${Number(latest.split('.')[0]) + 1}.0.0`;
      writeFileSync(root, readFileSync(root, 'utf8').replace(/\n {2}version: [^\n]+\n/u, `\n  version: ${major}\n`));
      const bundled = await bundleContract(root);
      expect(Object.keys((bundled.paths as Json)['/projects/{projectId}'])).toEqual(['parameters', 'get']);
      const outcome = await release({ dir: join(dir, 'openapi/releases'), changelog: join(dir, 'CHANGELOG.md'), current: bundled });
      expect(outcome.code, outcome.message).toBe(0);
      // npm run generate, run again on the released tree, writes the snapshot's bytes
      expect(readFileSync(join(dir, `openapi/releases/${major}.json`), 'utf8') === serialize(await bundleContract(root)), 'snapshot differs from the regenerated bundle').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`an untouched tree: generated/openapi.json is openapi/releases/${latest}.json byte for byte, and contract:release accepts it`, async (ctx) => {
    const current = await bundleWorkingTree();
    const changes = diffContracts(readRelease(latest), current).changes;
    if (changes.length > 0 || (current.info as Json).version !== latest) {
      return ctx.skip(`the contract was edited since release ${latest} (${changes.length} change(s), info.version ${(current.info as Json).version}): byte equality with a snapshot holds only for an untouched tree`);
    }
    const released = readFileSync(join(RELEASES_DIR, `${latest}.json`), 'utf8');
    expect(readFileSync(join(rootDir, 'generated/openapi.json'), 'utf8') === released, 'generated/openapi.json differs from the released snapshot (key order?)').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'contract-untouched-'));
    try {
      cpSync(RELEASES_DIR, join(dir, 'releases'), { recursive: true });
      const outcome = await release({ dir: join(dir, 'releases'), changelog: join(dir, 'CHANGELOG.md') });
      expect(outcome).toEqual({ code: 0, message: `${latest} is already released with this content; CHANGELOG.md regenerated` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run contract:release (on a scratch releases folder)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'contract-release-'));
  const changelog = join(dir, 'CHANGELOG.md');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const releases = join(dir, 'releases');
  mkdirSync(releases);
  cpSync(join(RELEASES_DIR, '1.0.0.json'), join(releases, '1.0.0.json'));
  const base = readRelease('1.0.0', releases) as Json;

  it('refuses to overwrite a released version with other content', async () => {
    const edited = structuredClone(base);
    edited.info.description = 'changed';
    const outcome = await release({ dir: releases, changelog, current: edited });
    expect(outcome.code).toBe(1);
    expect(outcome.message).toContain('exists with different content');
    expect(outcome.message).toContain('set info.version: 1.0.1 (informational change(s) only: a new patch)');
    expect(readFileSync(join(releases, '1.0.0.json'), 'utf8')).toBe(serialize(base));
  });

  it('refuses a version not above the latest release, naming the one to use', async () => {
    const edited = structuredClone(base);
    edited.info.version = '0.9.0';
    edited.components.schemas.Project.properties.archived = { type: 'boolean' };
    const outcome = await release({ dir: releases, changelog, current: edited });
    expect(outcome.code).toBe(1);
    expect(outcome.message).toContain('info.version 0.9.0 must be above the latest release 1.0.0: set info.version: 1.1.0 (1 non-breaking change(s): a new minor)');
  });

  it('refuses a breaking change released as a minor version', async () => {
    const edited = structuredClone(base);
    edited.info.version = '1.1.0';
    edited['x-request-body-limit-bytes'] = 1024;
    const outcome = await release({ dir: releases, changelog, current: edited });
    expect(outcome.code).toBe(1);
    expect(outcome.message).toContain('request body limit (bytes) lowered 16384 → 1024');
    expect(releasedVersions(releases)).toEqual(['1.0.0']);
  });

  it('snapshots a new version and writes its changes into the changelog', async () => {
    const minor = structuredClone(base);
    minor.info.version = '1.1.0';
    minor.paths['/auth/login'].post['x-rate-limit'].limit = 20;
    expect(await release({ dir: releases, changelog, current: minor })).toMatchObject({ code: 0 });
    const major = structuredClone(minor);
    major.info.version = '2.0.0';
    major.paths['/projects'].get.security = [{ session: [] }];
    expect(await release({ dir: releases, changelog, current: major })).toMatchObject({ code: 0 });
    expect(releasedVersions(releases)).toEqual(['1.0.0', '1.1.0', '2.0.0']);
    const text = readFileSync(changelog, 'utf8');
    expect(text.indexOf('## 2.0.0')).toBeLessThan(text.indexOf('## 1.1.0'));
    expect(text).toContain('| request | security | tightened: apiKey no longer enough (now: session) | GET /projects | security |');
    expect(text).toContain('| request | x-rate-limit.limit | limit raised 10 → 20 | POST /auth/login | x-rate-limit |');
    expect(text).not.toContain('Unreleased');
    // an edit after the release shows up as Unreleased
    const next = structuredClone(major);
    next.components.schemas.Project.properties.archived = { type: 'boolean' };
    expect(await release({ dir: releases, changelog, current: next, changelogOnly: true })).toMatchObject({ code: 0 });
    expect(readFileSync(changelog, 'utf8')).toMatch(/## Unreleased[^\n]*\n[\s\S]*field `archived` added/u);
  });
});
