// `npm run pack:client`: the tarball installs in an empty folder (no network: openapi-fetch
// comes from this checkout's node_modules, packed the same way), type-checks there with a
// strict tsconfig, runs in Node against the reference server, and stays within its size budget.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test/helpers.ts';
import { CLIENT_RUNTIME_DEPENDENCIES, clientManifest, packClient } from './pack-client.ts';
import { ROOT, packagesImportedBy } from './pack-helpers.ts';

/**
 * The size budget of the client's own code as packed (client/*.js, comments included): see the
 * README section "For API consumers: the typed client". Measured 15.5 KB raw / 4.9 KB gzip.
 */
const CLIENT_JS_BUDGET = { rawBytes: 20 * 1024, gzipBytes: 6 * 1024 };

let work: string;
let tarball: string;
let t: TestApp;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'qz-client-pack-'));
  tarball = packClient(join(work, 'dist'));
  t = await buildTestApp();
}, 120_000);
afterAll(async () => {
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

const listed = () => execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('npm run pack:client', () => {
  it('is named quazzar-client-<version>.tgz and holds the compiled client and the contract types, nothing else', () => {
    expect(tarball.endsWith(`quazzar-client-${String(clientManifest().version)}.tgz`)).toBe(true);
    const files = listed();
    expect(files).toContain('package/client/index.js');
    expect(files).toContain('package/client/index.d.ts');
    expect(files).toContain('package/generated/api.d.ts');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /test|examples|check|src\/|conformance\//u.test(f))).toEqual([]);
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, any>;
    expect(Object.keys(manifest.dependencies)).toEqual(['openapi-fetch']);
    expect(manifest.type).toBe('module');
    expect(manifest.exports['.'].types).toBe('./client/index.d.ts');
  });

  it('imports only openapi-fetch at run time, and nothing of Node (browsers run it too)', () => {
    const sources = listed()
      .filter((f) => /^package\/client\/[^/]+\.js$/u.test(f))
      .map((f) => join(ROOT, f.replace(/^package\//u, '').replace(/\.js$/u, '.ts')));
    expect(sources.length).toBeGreaterThanOrEqual(4);
    expect([...new Set(sources.flatMap(packagesImportedBy))]).toEqual(CLIENT_RUNTIME_DEPENDENCIES);
    for (const s of sources) {
      const text = readFileSync(s, 'utf8');
      expect(text, s).not.toMatch(/from '(node:|\.\.\/(src|test|scripts|conformance)\/)/u);
      expect(text, s).not.toMatch(/\b(process|Buffer|require)\b[.(]/u);
    }
  });

  it(`stays within its size budget: the client's own JS at most ${CLIENT_JS_BUDGET.rawBytes} bytes, ${CLIENT_JS_BUDGET.gzipBytes} gzipped`, () => {
    const out = join(work, 'x');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['xzf', tarball, '-C', out]);
    const dir = join(out, 'package/client');
    const js = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dir, f)));
    const raw = js.reduce((n, b) => n + b.length, 0);
    const gzip = gzipSync(Buffer.concat(js), { level: 9 }).length;
    console.log(`client JS: ${raw} bytes, ${gzip} bytes gzipped (tarball ${statSync(tarball).size} bytes)`);
    expect(raw).toBeLessThanOrEqual(CLIENT_JS_BUDGET.rawBytes);
    expect(gzip).toBeLessThanOrEqual(CLIENT_JS_BUDGET.gzipBytes);
  });

  it('installs in an empty folder, type-checks strictly there and runs in Node against the reference server', async () => {
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    // openapi-fetch and its one dependency from this checkout, so the test needs no network.
    const deps = ['openapi-fetch', 'openapi-typescript-helpers'].map((name) =>
      join(app, execFileSync('npm', ['pack', '--silent', join(ROOT, 'node_modules', name)], { cwd: app, encoding: 'utf8' }).trim().split('\n').pop()!),
    );
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'empty', private: true, type: 'module' }));
    // an empty npm cache of its own: proves nothing comes from the registry or an earlier install
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...deps, tarball], {
      cwd: app,
      stdio: 'pipe',
      env: { ...process.env, npm_config_cache: join(work, 'npm-cache') },
    });
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], noEmit: true, skipLibCheck: false },
        include: ['use.ts'],
      }),
    );
    writeFileSync(
      join(app, 'use.ts'),
      [
        "import { createQuazzarClient, type ClientError } from 'quazzar-client';",
        'export async function email(baseUrl: string): Promise<string> {',
        '  const qz = createQuazzarClient({ baseUrl, credential: { apiKey: "qzk_x" } });',
        '  const me = await qz.getCurrentUser();',
        '  if (me.ok) return me.data.email;',
        "  const code: ClientError['code'] = me.error.code;",
        '  // @ts-expect-error -- the data are typed by the contract: email is a string',
        '  const wrong: number = (await qz.getCurrentUser()).data?.email;',
        '  return `${code} ${wrong}`;',
        '}',
        '',
      ].join('\n'),
    );
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, stdio: 'pipe' });

    writeFileSync(
      join(app, 'run.mjs'),
      "import { createQuazzarClient } from 'quazzar-client';\n" +
        'const r = await createQuazzarClient({ baseUrl: process.argv[2] }).getHealth();\n' +
        'console.log(JSON.stringify({ ok: r.ok, data: r.data, policy: r.rateLimit.policies[0]?.name }));\n',
    );
    // asynchronously: the server answering it runs in this process
    const { stdout } = await promisify(execFile)(process.execPath, ['run.mjs', t.baseUrl], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(stdout)).toEqual({ ok: true, data: { status: 'ok' }, policy: 'health' });
  });
});
