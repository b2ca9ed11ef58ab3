/**
 * The policy rules: risky but valid configurations, reported by `agent lint`
 * only, as warnings (errors with `--strict`). One module per rule; this list
 * is their registration ({@link RULES} spreads it in).
 */

import type { DocumentRule } from '../rule.js';
import { dangerousCapability } from './dangerous-capability.js';
import { dockerSocket } from './docker-socket.js';
import { hostNetwork } from './host-network.js';
import { hostPath } from './host-path.js';
import { imageDigest } from './image-digest.js';
import { latestTag } from './latest-tag.js';
import { noHealthCheck } from './no-health-check.js';
import { noMemoryLimit } from './no-memory-limit.js';
import { privileged } from './privileged.js';
import { pullLocalImage } from './pull-local-image.js';
import { runAsRoot } from './run-as-root.js';
import { secretFromEnv } from './secret-from-env.js';
import { secretLiteral } from './secret-literal.js';
import { writableRootFilesystem } from './writable-root-filesystem.js';

/** Every policy rule, by id. */
export const POLICY_RULES: readonly DocumentRule[] = [
  dangerousCapability,
  dockerSocket,
  hostNetwork,
  hostPath,
  imageDigest,
  latestTag,
  noHealthCheck,
  noMemoryLimit,
  privileged,
  pullLocalImage,
  runAsRoot,
  secretFromEnv,
  secretLiteral,
  writableRootFilesystem,
];

/**
 * Policy rules that do not run unless `--strict` or `.agentlint.yaml` turns
 * them on (`policy/image-digest`).
 */
export const OFF_BY_DEFAULT: ReadonlySet<string> = new Set([imageDigest.id]);
