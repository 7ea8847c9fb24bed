// The `quazzar` Redocly plugin: the project's own lint rules (see redocly.yaml).
// Redocly CLI 2 loads an ESM module whose default export is a function returning the plugin.
import Body422 from './body-422.js';
import InfoMatchesExtensions from './info-matches-extensions.js';
import ProblemJson from './problem-json.js';
import RateLimitDocumented from './rate-limit-documented.js';
import RateLimit from './rate-limit.js';
import RateLimited429 from './rate-limited-429.js';
import Secured401 from './secured-401.js';

const rules = {
  'rate-limit': RateLimit,
  'rate-limited-429': RateLimited429,
  'body-422': Body422,
  'secured-401': Secured401,
  'problem-json': ProblemJson,
  'rate-limit-documented': RateLimitDocumented,
  'info-matches-extensions': InfoMatchesExtensions,
};

export default function quazzarPlugin() {
  return { id: 'quazzar', rules: { oas3: rules } };
}
