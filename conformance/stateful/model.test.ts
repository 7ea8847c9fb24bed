import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createContract } from '../framework/contract.ts';
import { DEFAULT_CONTRACT } from '../run.ts';
import { documentsRevokedField, revokedMismatch } from './model.ts';

// The model checks API keys after a password change or a TOTP enable only when the chosen
// contract documents it (a `revoked` property on the 200 answer), and then reads the answer.

describe('stateful model: the `revoked` gate', () => {
  const document = JSON.parse(readFileSync(DEFAULT_CONTRACT, 'utf8'));

  it('reads the gate from the contract: absent → not documented; a `revoked` property (even in an allOf part) → documented', () => {
    // The shipped contract documents it (2.1.0); one whose answer is a plain Message does not.
    expect(documentsRevokedField(createContract(document), 'changePassword')).toBe(true);
    const without = structuredClone(document);
    without.paths['/auth/password/change'].post.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Message' };
    expect(documentsRevokedField(createContract(without), 'changePassword')).toBe(false);
    const withRevoked = structuredClone(without);
    const content = withRevoked.paths['/auth/password/change'].post.responses['200'].content['application/json'];
    content.schema = { allOf: [content.schema, { type: 'object', properties: { revoked: { type: 'object', properties: { api_keys: { type: 'integer' } } } } }] };
    const contract = createContract(withRevoked);
    expect(documentsRevokedField(contract, 'changePassword')).toBe(true);
    expect(documentsRevokedField(contract, 'verifyTotp')).toBe(documentsRevokedField(createContract(document), 'verifyTotp'));
    expect(documentsRevokedField(contract, 'noSuchOperation')).toBe(false);
  });

  it("checks the answer's documented `revoked` counts against the model", () => {
    expect(revokedMismatch({ revoked: { sessions: 1, api_keys: 2 } }, 2, 1)).toBeUndefined();
    // An expired session may be counted too.
    expect(revokedMismatch({ revoked: { sessions: 3, api_keys: 0 } }, 0, 1)).toBeUndefined();
    expect(revokedMismatch({ revoked: { sessions: 1, api_keys: 0 } }, 2, 1)).toMatch(/api_keys is 0, the model knows 2/u);
    expect(revokedMismatch({ revoked: { sessions: 0, api_keys: 1 } }, 1, 2)).toMatch(/sessions is 0, the model knows 2/u);
    // Keys the model cannot tell (after an undocumented change): the count is not judged.
    expect(revokedMismatch({ revoked: { sessions: 0, api_keys: 5 } }, undefined, 0)).toBeUndefined();
    expect(revokedMismatch({ message: 'ok' }, 0, 0)).toMatch(/no `revoked`/u);
  });
});
