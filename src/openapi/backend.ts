import { OpenAPIBackend, type Document, type Options } from 'openapi-backend';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { addFormats } from '../response-check.ts';

/**
 * openapi-backend validates definitions against the 3.0 meta-schema, which rejects 3.1 type
 * arrays (STACK.md). The contract is linted by Redocly, so that check is skipped here.
 */
class OpenAPI31Backend extends OpenAPIBackend {
  override validateDefinition(): Document {
    return this.document;
  }

  override async init(): Promise<this> {
    await super.init();
    // The router rebuilds its flattened operation list (a copy of every operation) on each
    // call, several times per request; the definition never changes after init, so keep one.
    const operations = this.router.getOperations();
    this.router.getOperations = () => operations;
    return this;
  }
}

/**
 * A strict backend (fails closed when a hook is missing) validating with Ajv 2020-12 and
 * real formats (the default Ajv ignores `format: email`). Reused by the harness.
 */
export function createBackend(definition: Document, handlers: Options['handlers'], securityHandlers: Options['securityHandlers'] = {}): OpenAPIBackend {
  return new OpenAPI31Backend({
    definition,
    strict: true,
    quick: true, // validators compile on first use of each operation: fast start, one slower first request
    validate: true,
    coerceTypes: false,
    ajvOpts: { allErrors: true },
    customizeAjv: (_ajv, opts) => {
      const ajv = new Ajv2020({ ...opts, strict: false, allErrors: true });
      addFormats(ajv);
      return ajv as never;
    },
    handlers,
    securityHandlers,
  });
}
