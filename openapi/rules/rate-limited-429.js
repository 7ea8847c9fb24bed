// quazzar/rate-limited-429 — every operation is rate limited, so every operation documents
// the 429 it can answer, with the headers a client needs to back off (docs/DECISIONS.md §4).
import { headerNames, operationResponses } from './deref.js';

const REQUIRED_HEADERS = ['Retry-After', 'RateLimit-Policy', 'RateLimit'];

export default function RateLimited429() {
  return {
    Operation: {
      enter(operation, ctx) {
        const where = operation.operationId ?? ctx.key;
        const { responses, entries } = operationResponses(ctx, operation);
        const tooMany = entries.find((entry) => entry.status === '429');
        if (!tooMany || tooMany.node === undefined) {
          ctx.report({ message: `Operation \`${where}\` does not document a 429 response.`, location: responses.location });
          return;
        }
        const names = headerNames(ctx, tooMany);
        const missing = REQUIRED_HEADERS.filter((name) => !names.has(name.toLowerCase()));
        if (missing.length > 0) {
          ctx.report({
            message: `The 429 response of \`${where}\` lacks the header(s) ${missing.join(', ')}.`,
            location: tooMany.location,
          });
        }
      },
    },
  };
}
