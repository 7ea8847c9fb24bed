// quazzar/problem-json — every error answer is RFC 9457 `application/problem+json` and
// nothing else, so clients parse every error one way (docs/DECISIONS.md §3).
import { derefChild, operationResponses } from './deref.js';

const PROBLEM = 'application/problem+json';

/** 4xx and 5xx, also the 4XX / 5XX ranges; `default` is not an error status by itself. */
function isErrorStatus(status) {
  return /^[45]([0-9]{2}|XX)$/i.test(status);
}

export default function ProblemJson() {
  return {
    Operation: {
      enter(operation, ctx) {
        const where = operation.operationId ?? ctx.key;
        for (const entry of operationResponses(ctx, operation).entries) {
          if (!isErrorStatus(entry.status) || entry.node === undefined) continue;
          const content = derefChild(ctx, entry, 'content');
          const types = content.node && typeof content.node === 'object' ? Object.keys(content.node) : [];
          if (types.length === 1 && types[0] === PROBLEM) continue;
          const found = types.length === 0 ? 'no content' : types.join(', ');
          ctx.report({
            message: `The ${entry.status} response of \`${where}\` must have exactly the content ${PROBLEM} (found: ${found}).`,
            location: content.node === undefined ? entry.location : content.location,
          });
        }
      },
    },
  };
}
