import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../run.ts';
import { startReference, type RunningReference } from '../selftest/reference-server.ts';

// End to end: a real run's reports carry the cited SEC texts, the contract pointers and the
// passing check's evidence (runConformance wires framework results to requirements/pointers.ts).

let ref: RunningReference;
let dir: string;

beforeAll(async () => {
  ref = await startReference();
  dir = await mkdtemp(join(tmpdir(), 'qz-evidence-'));
});

afterAll(async () => {
  await ref?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a run against the reference server', () => {
  it('writes SEC texts, contract pointers and passing evidence into report.json, report.html and junit.xml', async () => {
    const result = await runConformance({
      baseUrl: ref.url,
      clientIpHeader: ref.clientIpHeader!,
      harnessUrl: ref.harnessUrl,
      harnessToken: ref.harnessToken,
      only: ['LOGIN-02'],
      reportDir: dir,
      log: () => {},
    });
    expect(result.exitCode).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as {
      checks: Array<{ id: string; outcome: string; security: Array<{ id: string; text: string }>; contractPointers: string[] }>;
      requirements: Array<{ id: string; contractPointers: string[] }>;
    };
    const login02 = json.checks.find((c) => c.id === 'LOGIN-02')!;
    expect(login02.outcome).toBe('pass');
    expect(login02.security.map((s) => s.id)).toEqual(['SEC 4']);
    expect(login02.security[0]!.text).toMatch(/^Unknown e-mail and wrong password: same status/u);
    expect(login02.contractPointers).toContain('#/paths/~1auth~1login/post/responses/401');
    expect(json.requirements.find((r) => r.id === 'CONTRACT-HEADERS')!.contractPointers).toContain('#/components/responses/LoginUnauthorized/headers/WWW-Authenticate');

    const html = await readFile(join(dir, 'report.html'), 'utf8');
    const section = html.slice(html.indexOf('<section id="LOGIN-02">'));
    expect(section).toMatch(/^<section id="LOGIN-02"><h3 class="pass">PASS LOGIN-02/u);
    expect(section).toMatch(/<details><summary>exchange #\d+: POST http:\/\/[^ ]+\/auth\/login → 401/u);
    expect(html).toContain('<code>#/paths/~1auth~1login/post/responses/401</code>');
    expect(html).toContain('<summary>SEC 4 — Login and enumeration:');

    expect(await readFile(join(dir, 'junit.xml'), 'utf8')).toContain('<property name="SEC 4" value="Unknown e-mail and wrong password');
  });
});
