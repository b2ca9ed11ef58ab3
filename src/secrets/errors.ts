/**
 * Names, problems and warnings of the secrets module. No message here ever
 * holds a secret value: a name or a file path is quoted, a value never is.
 */

/** A secret name: the character rules of an environment variable name. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The prefix of the runner's environment variables that give secrets: `AGENT_SECRET_<NAME>`. */
export const SECRET_ENV_PREFIX = 'AGENT_SECRET_';

/** True when `name` is a valid secret name ({@link SECRET_NAME}: `[A-Za-z_][A-Za-z0-9_]*`). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** One problem found while collecting secrets. */
export interface SecretsProblem {
  /** One line, lower-case; quotes names and paths (JSON-style), never a value. */
  message: string;
  /** How to fix it, when there is more to say than the message. */
  hint?: string;
}

/**
 * Secrets could not be collected: every problem found at once. `message` is
 * one line: the problem's message, or with several, their messages joined
 * by `; `. `hint` is the problems' distinct hints joined by `; ` (undefined
 * when none has one). `problems` has each separately, in the order found:
 * `--secret` arguments, then secret files, then missing declared secrets.
 */
export class SecretsError extends Error {
  override name = 'SecretsError';
  readonly hint?: string;
  constructor(readonly problems: readonly SecretsProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    const hints = [...new Set(problems.flatMap((p) => (p.hint ? [p.hint] : [])))];
    if (hints.length > 0) this.hint = hints.join('; ');
  }
}

/**
 * Something a user should know that does not stop the run: a line of a
 * secret file that dotenv ignores, a name that is not a valid secret name,
 * a declared secret that is empty.
 */
export interface SecretsWarning {
  /** One line; never a value, nor the text of a line of a secret file (it may hold one). */
  message: string;
  /** The secret file, as given on the command line. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
}

/** `file:line: message`, `file: message` or `message`, as the warning has them. */
export function formatSecretsWarning(warning: SecretsWarning): string {
  if (warning.file === undefined) return warning.message;
  const at = warning.line === undefined ? warning.file : `${warning.file}:${warning.line}`;
  return `${at}: ${warning.message}`;
}
