/**
 * `policy/secret-literal`: an environment value written in the file that
 * looks like a credential. Known token formats (as gitleaks and GitHub
 * secret scanning match them): AWS access key ids (`AKIA…`/`ASIA…`), GitHub
 * tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), Slack
 * tokens (`xoxb-`, `xoxp-`, …), PEM private keys
 * (`-----BEGIN … PRIVATE KEY-----`) and URLs with a password
 * (`scheme://user:pass@host`); plus, under a secret-looking name
 * ({@link secretLikeName}), any value of 16 or more characters without spaces
 * whose Shannon entropy is at least 3 bits per character.
 *
 * Checked in `environment`, `build.args` and workflow `env` maps. The
 * message names the variable and the kind of secret, never the value;
 * the lint pass also masks the value in the snippet it prints.
 */

import { envVars, secretLikeName } from './common.js';
import { policyRule } from './define.js';

const FORMATS: readonly { kind: string; pattern: RegExp }[] = [
  { kind: 'an AWS access key id', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  {
    kind: 'a GitHub token',
    pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}/,
  },
  { kind: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'a private key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/ },
  { kind: 'a URL with a password', pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/$]+@/i },
];

/** Shannon entropy of a string, in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * What kind of secret `value` looks like (`a GitHub token`, …), or undefined.
 * `name` is the variable's name, for the entropy test. Values with an
 * expression (`${{ secrets.X }}`) or a `$VAR` reference are not literals.
 */
export function secretKind(name: string, value: string): string | undefined {
  if (value.includes('${{')) return undefined;
  for (const f of FORMATS) if (f.pattern.test(value)) return f.kind;
  if (
    secretLikeName(name) &&
    value.length >= 16 &&
    !/\s/.test(value) &&
    !value.startsWith('$') &&
    entropy(value) >= 3
  ) {
    return 'a high-entropy secret';
  }
  return undefined;
}

/** The `policy/secret-literal` rule, as described above. */
export const secretLiteral = policyRule(
  'secret-literal',
  'a literal environment value that looks like a secret',
  (ctx) => {
    for (const v of envVars(ctx)) {
      if (v.value === undefined || v.valueAt === undefined) continue;
      const kind = secretKind(v.name, v.value);
      if (!kind) continue;
      ctx.report({
        at: v.valueAt,
        message: `the value of ${JSON.stringify(v.name)} in ${v.owner} looks like ${kind}, written into the file; ${v.fix}, and rotate it`,
      });
    }
  },
);
