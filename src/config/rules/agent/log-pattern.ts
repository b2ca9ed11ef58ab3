import type { Rule } from '../rule.js';
import { agentSpecs, dig } from '../specs.js';

/** `agent/log-pattern`: a `healthCheck.log.pattern` that is not a valid JavaScript regular expression. */
export const logPatternRule: Rule = {
  id: 'agent/log-pattern',
  category: 'agent',
  docs: 'agents',
  summary: 'a log health check pattern that is not a valid regular expression',
  severity: 'error',
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      const pattern = dig(spec, ['healthCheck', 'log', 'pattern']);
      if (typeof pattern !== 'string') continue;
      try {
        new RegExp(pattern);
      } catch (error) {
        ctx.report({
          at: [...path, 'healthCheck', 'log', 'pattern'],
          message: `log pattern is not a valid regular expression: ${(error as Error).message}`,
          hint: 'JavaScript syntax, without slashes or flags; escape a literal ( [ { . * + ? with a backslash',
        });
      }
    }
  },
};
