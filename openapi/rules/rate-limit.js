// quazzar/rate-limit — every operation declares its budget in `x-rate-limit`, so the server,
// the docs and the conformance suite read the numbers from the contract and never hard-code
// them. Operations naming the same policy share one budget (docs/DECISIONS.md §5), so they
// must agree on it; `x-rate-limit-failures` (login's per-account budget) has the same shape.
import { derefChild } from './deref.js';

const KEYS = ['ip', 'token', 'account'];

function isPositiveInteger(value) {
  return Number.isInteger(value) && value >= 1;
}

/** @returns {string[]} what is wrong with one rate-limit object */
function problemsOf(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['must be an object'];
  const problems = [];
  if (typeof value.policy !== 'string' || value.policy.length === 0) problems.push('`policy` must be a non-empty string');
  if (!isPositiveInteger(value.limit)) problems.push('`limit` must be an integer ≥ 1');
  if (!isPositiveInteger(value.window_seconds)) problems.push('`window_seconds` must be an integer ≥ 1');
  if (!KEYS.includes(value.key)) problems.push(`\`key\` must be one of ${KEYS.join(' | ')}`);
  return problems;
}

export default function RateLimit() {
  /** policy name → the first declaration seen, to compare the others with */
  const policies = new Map();

  function check(operation, ctx, field, required) {
    const { node, location } = derefChild(ctx, { node: operation, location: ctx.location }, field);
    const where = operation.operationId ?? ctx.key;
    if (node === undefined) {
      if (required) ctx.report({ message: `Operation \`${where}\` has no \`${field}\`.`, location: ctx.location.key() });
      return;
    }
    const problems = problemsOf(node);
    if (problems.length > 0) {
      ctx.report({ message: `\`${field}\` of \`${where}\`: ${problems.join('; ')}.`, location });
      return;
    }
    const first = policies.get(node.policy);
    if (!first) {
      policies.set(node.policy, { ...node, where });
      return;
    }
    const differs = ['limit', 'window_seconds', 'key'].filter((k) => first[k] !== node[k]);
    if (differs.length > 0) {
      ctx.report({
        message:
          `\`${field}\` of \`${where}\` shares policy \`${node.policy}\` with \`${first.where}\` ` +
          `but differs in ${differs.join(', ')}: one policy is one budget.`,
        location,
      });
    }
  }

  return {
    Operation: {
      enter(operation, ctx) {
        check(operation, ctx, 'x-rate-limit', true);
        check(operation, ctx, 'x-rate-limit-failures', false);
      },
    },
  };
}
