// quazzar/rate-limit-documented — `x-rate-limit` is for machines; a reader of the docs sees
// the description. So the description says "Rate limit" and states the same numbers.
import { derefChild } from './deref.js';

function isPositiveInteger(value) {
  return Number.isInteger(value) && value >= 1;
}

function mentionsNumber(text, value) {
  return new RegExp(`(^|[^0-9])${value}([^0-9]|$)`).test(text);
}

export default function RateLimitDocumented() {
  return {
    Operation: {
      enter(operation, ctx) {
        const here = { node: operation, location: ctx.location };
        const description = typeof operation.description === 'string' ? operation.description : '';
        const where = operation.operationId ?? ctx.key;
        for (const field of ['x-rate-limit', 'x-rate-limit-failures']) {
          const limit = derefChild(ctx, here, field).node;
          // A missing or malformed object is quazzar/rate-limit's finding, not ours.
          if (!limit || !isPositiveInteger(limit.limit) || !isPositiveInteger(limit.window_seconds)) continue;
          const missing = [];
          if (!/rate limit/i.test(description)) missing.push('the words "Rate limit"');
          if (!mentionsNumber(description, limit.limit)) missing.push(`the limit ${limit.limit}`);
          if (!mentionsNumber(description, limit.window_seconds)) missing.push(`the window ${limit.window_seconds}`);
          if (missing.length === 0) continue;
          ctx.report({
            message: `The description of \`${where}\` does not state its \`${field}\` (${missing.join(', ')}).`,
            location: operation.description === undefined ? ctx.location.key() : ctx.location.child(['description']),
          });
        }
      },
    },
  };
}
