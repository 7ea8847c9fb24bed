import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerDeclares, loadContract, parseContract } from './contract.ts';
import { fromRoot } from './project-root.ts';

// A server built from an older release leaves out what that release's answer schema forbids.
describe('answerDeclares', () => {
  it('finds `revoked` on the shipped contract (through $ref) and not on release 1.0.0', () => {
    const shipped = loadContract();
    expect(answerDeclares(shipped, 'changePassword', 200, 'revoked')).toBe(true);
    expect(answerDeclares(shipped, 'verifyTotp', 200, 'revoked')).toBe(true);
    expect(answerDeclares(shipped, 'verifyTotp', 200, 'backup_codes')).toBe(true);
    expect(answerDeclares(shipped, 'disableTotp', 200, 'revoked')).toBe(false);
    expect(answerDeclares(shipped, 'noSuchOperation', 200, 'revoked')).toBe(false);
    const v1 = parseContract(JSON.parse(readFileSync(fromRoot('openapi', 'releases', '1.0.0.json'), 'utf8')));
    expect(answerDeclares(v1, 'changePassword', 200, 'revoked')).toBe(false);
    expect(answerDeclares(v1, 'verifyTotp', 200, 'revoked')).toBe(false);
  });

  it('looks into allOf parts', () => {
    const doc = structuredClone(loadContract().document);
    const content = doc.paths['/auth/totp'].delete.responses['200'].content['application/json'];
    content.schema = { allOf: [content.schema, { type: 'object', properties: { revoked: { type: 'object' } } }] };
    expect(answerDeclares(parseContract(doc), 'disableTotp', 200, 'revoked')).toBe(true);
  });
});
