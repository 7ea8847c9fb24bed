// Follows $refs from a rule's visitor with Redocly's own resolver, so the rules work on the
// split contract (openapi/paths/*.yaml, openapi/components/**) exactly as on one file.
// A $ref is resolved relative to the file that holds it, so every step carries its location.

/** @returns {boolean} */
export function isRef(node) {
  return node !== null && typeof node === 'object' && typeof node.$ref === 'string';
}

/**
 * Resolves `node` (which sits at `location`) until it is no longer a $ref.
 * @returns {{ node: any, location: any }} node is undefined when a $ref is unresolvable
 *   (Redocly's no-unresolved-refs reports that; our rules stay silent).
 */
export function deref(ctx, node, location) {
  let current = { node, location };
  // A chain of $refs ($ref to a $ref) is legal; a cycle is not, so bound the walk.
  for (let hops = 0; hops < 32 && isRef(current.node); hops += 1) {
    const next = ctx.resolve(current.node, current.location.source.absoluteRef);
    if (!next || next.node === undefined || !next.location) return { node: undefined, location: current.location };
    current = { node: next.node, location: next.location };
  }
  return current;
}

/** Resolves `parent.node[key]`; the location points at the child (or at its $ref target). */
export function derefChild(ctx, parent, key) {
  if (!parent.node || typeof parent.node !== 'object') return { node: undefined, location: parent.location };
  return deref(ctx, parent.node[key], parent.location.child([key]));
}

/** The operation's responses map, each entry resolved: [{ status, node, location }]. */
export function operationResponses(ctx, operation) {
  const responses = derefChild(ctx, { node: operation, location: ctx.location }, 'responses');
  if (!responses.node || typeof responses.node !== 'object') return { responses, entries: [] };
  const entries = Object.keys(responses.node).map((status) => ({
    status,
    ...derefChild(ctx, responses, status),
  }));
  return { responses, entries };
}

/** The header names (lower-cased: HTTP header names are case-insensitive) of a response. */
export function headerNames(ctx, response) {
  const headers = derefChild(ctx, response, 'headers');
  if (!headers.node || typeof headers.node !== 'object') return new Set();
  return new Set(Object.keys(headers.node).map((name) => name.toLowerCase()));
}
