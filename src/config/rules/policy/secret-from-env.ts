/**
 * `policy/secret-from-env`: an `environment` entry with `from: env` whose
 * name looks like a secret ({@link secretLikeName}): it is passed through
 * unmasked, where `from: secret` is masked in logs and never stored.
 */

import { envVars, secretLikeName } from './common.js';
import { policyRule } from './define.js';

/** The `policy/secret-from-env` rule, as described above. */
export const secretFromEnv = policyRule(
  'secret-from-env',
  'a secret-looking variable read with from: env instead of from: secret',
  (ctx) => {
    for (const v of envVars(ctx)) {
      if (v.from !== 'env' || !secretLikeName(v.name)) continue;
      ctx.report({
        at: [...v.at, 'from'],
        message: `${JSON.stringify(v.name)} in ${v.owner} looks like a secret but is read with "from: env", unmasked; use "from: secret" so it is masked and never stored`,
      });
    }
  },
);
