// quazzar/secured-401 — a secured operation can answer 401, and a 401 tells the client how
// to authenticate in `WWW-Authenticate` (RFC 6750 §3, docs/DECISIONS.md §4).
import { headerNames, operationResponses } from './deref.js';

/** True when some requirement names a scheme: `[]` and `[{}]` mean "no credential needed". */
function isSecured(security) {
  return Array.isArray(security) && security.some((req) => req && typeof req === 'object' && Object.keys(req).length > 0);
}

export default function Secured401() {
  let rootSecurity;
  return {
    Root: {
      enter(root) {
        rootSecurity = root.security;
      },
    },
    Operation: {
      enter(operation, ctx) {
        // An operation's own `security` (even an empty list) overrides the root's.
        const security = operation.security !== undefined ? operation.security : rootSecurity;
        if (!isSecured(security)) return;
        const where = operation.operationId ?? ctx.key;
        const { responses, entries } = operationResponses(ctx, operation);
        const unauthorized = entries.find((entry) => entry.status === '401');
        if (!unauthorized || unauthorized.node === undefined) {
          ctx.report({ message: `Secured operation \`${where}\` does not document 401.`, location: responses.location });
          return;
        }
        if (!headerNames(ctx, unauthorized).has('www-authenticate')) {
          ctx.report({
            message: `The 401 response of \`${where}\` lacks the WWW-Authenticate header.`,
            location: unauthorized.location,
          });
        }
      },
    },
  };
}
