import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../cli-args.ts';
import { loadContract } from '../framework/contract.ts';
import { documentedClaims } from './token-claims.ts';

describe('SESSIONS-08 reads the token claims from the contract', () => {
  it('finds typ, iss and aud in the contract description', () => {
    const contract = loadContract(new URL('../../generated/openapi.json', import.meta.url).pathname);
    expect(documentedClaims(String(contract.document.info.description))).toEqual({
      typ: 'at+jwt',
      iss: 'https://app.quazzar.space',
      aud: 'quazzar-api',
    });
  });

  it('finds nothing in a description that documents none', () => {
    expect(documentedClaims('A JWT signed with HS256.')).toEqual({});
  });

  it('--token-signing-key-file reads the key (trailing newline dropped); a missing file is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qz-key-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, 'a-secret-of-at-least-32-bytes-0123456789\n');
      expect((parseCli(['--base-url', 'http://127.0.0.1:1', '--token-signing-key-file', file], {}) as { tokenSigningKey?: string }).tokenSigningKey).toBe('a-secret-of-at-least-32-bytes-0123456789');
      expect(() => parseCli(['--base-url', 'http://127.0.0.1:1', '--token-signing-key-file', join(dir, 'none')], {})).toThrow(/token-signing-key-file/u);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
