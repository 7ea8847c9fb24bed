// quazzar/body-422 — an operation that takes a request body validates it, so it documents
// the 422 `validation_failed` answer (docs/DECISIONS.md §3).
import { operationResponses } from './deref.js';

export default function Body422() {
  return {
    Operation: {
      enter(operation, ctx) {
        if (operation.requestBody === undefined) return;
        const { responses, entries } = operationResponses(ctx, operation);
        if (entries.some((entry) => entry.status === '422' && entry.node !== undefined)) return;
        ctx.report({
          message: `Operation \`${operation.operationId ?? ctx.key}\` takes a request body but does not document 422.`,
          location: responses.location,
        });
      },
    },
  };
}
