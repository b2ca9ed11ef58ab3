/**
 * Secrets of a run: collected from `--secret NAME=VALUE`, `--secret-file
 * FILE` (dotenv format) and `AGENT_SECRET_<NAME>` ({@link collectSecrets}),
 * and masked as `***` on every path out ({@link SecretMasker},
 * {@link StreamRedactor}). Pure logic but for reading the secret files.
 * See docs/secrets.md.
 */

export {
  type CollectSecretsOptions,
  collectSecrets,
  describeSecretSource,
  type SecretEntry,
  SecretSet,
  type SecretSource,
} from './collect.js';
export { parseSecretFile, type SecretFile } from './dotenv-file.js';
export {
  formatSecretsWarning,
  isSecretName,
  SECRET_ENV_PREFIX,
  SECRET_NAME,
  SecretsError,
  type SecretsProblem,
  type SecretsWarning,
} from './errors.js';
export {
  MASK,
  MIN_BASE64_LENGTH,
  MIN_LINE_LENGTH,
  type Redactor,
  SecretMasker,
  StreamRedactor,
  secretForms,
} from './masker.js';
